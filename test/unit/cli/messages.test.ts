/**
 * issue 10: the CLI's message rewriting on its own: yargs wordings become sentences with a
 * "did you mean", and the listener's note for a refused key appears once the handshake error
 * carries the presented SPKI (`peerSpki`, a field the handshake does not set yet).
 */
import t from 'tap'
import { usageSentence } from '../../../src/cli/usage.js'
import { refusedKeyNote } from '../../../src/cli/net-messages.js'
import { errnoSentence } from '../../../src/errno.js'
import { AuthError, sshFingerprint } from '../../../src/index.js'
import { testKeys } from '../../helpers/keys.js'

const ctx = { options: ['output-dir', 'outputDir', 'o', 'keep-open', 'listen', 'quiet', 'server-key'], argv: ['recv', '--outptu-dir', 'x'] }

t.test('issue 10: yargs messages become sentences; unknown wordings pass through', async t => {
  t.equal(usageSentence('Unknown arguments: outptu-dir, outptuDir', ctx), 'unknown option --outptu-dir; did you mean --output-dir?')
  t.equal(usageSentence('Unknown argument: zzzzzz', { ...ctx, argv: ['--zzzzzz'] }), 'unknown option --zzzzzz', 'no suggestion when nothing is near')
  t.equal(usageSentence('Unknown argument: stray', { ...ctx, argv: ['stray'] }), 'unexpected argument stray')
  t.equal(usageSentence('Implications failed:\n  keep-open -> output-dir', ctx), '--keep-open needs --output-dir as well')
  t.equal(usageSentence('Not enough arguments following: k', ctx), '-k needs a value')
  t.equal(usageSentence('Something new from yargs', ctx), 'Something new from yargs')
})

t.test('issue 10: errno codes become words', async t => {
  t.equal(errnoSentence({ code: 'EISDIR' }), 'it is a directory')
  t.equal(errnoSentence({ code: 'EEXIST' }), 'it already exists')
  t.equal(errnoSentence({ code: 'EWHATEVER' }), 'the operating system reported EWHATEVER')
})

t.test('issue 10: a refused key is named by fingerprint, with the authorize line, when the error carries it', async t => {
  const k = await testKeys()
  const spki = k.stranger.publicKey.export({ format: 'der', type: 'spki' })
  const note = refusedKeyNote(Object.assign(new AuthError('the client presented a key that is not in the authorized keys'), { peerSpki: spki }))
  t.match(note, `the client's key is ${sshFingerprint(k.stranger.publicKey)}; to allow it: secure-pipe authorize ssh-rsa AAAA`)
  t.equal(refusedKeyNote(new AuthError('x')), '', 'nothing without the field')
  t.equal(refusedKeyNote(Object.assign(new AuthError('x'), { peerSpki: Buffer.from('junk') })), '', 'nothing for junk')
})
