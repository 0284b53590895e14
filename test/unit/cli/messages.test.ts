/**
 * issue 10: the CLI's message rewriting on its own: yargs wordings become sentences with a
 * "did you mean", and the listener's note for a refused key appears once the handshake error
 * carries the presented SPKI (`peerSpki`, a field the handshake does not set yet).
 */
import t from 'tap'
import { usageSentence } from '../../../src/cli/usage.js'
import { listenError, refusedKeyNote } from '../../../src/cli/net-messages.js'
import { oneLine } from '../../../src/cli/report.js'
import { visible } from '../../../src/cli/visible.js'
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

t.test('issue 17 s5: visible() escapes C0, DEL, C1, bidi, zero-width and separators, and keeps other text', async t => {
  t.equal(visible('bob@laptop é 日本'), 'bob@laptop é 日本', 'printable text, accents and CJK unchanged')
  t.equal(visible('a\x1b]0;t\x07b'), 'a\\x1b]0;t\\x07b')
  t.equal(visible('\r\n\t\x00\x7f\x9b'), '\\x0d\\x0a\\x09\\x00\\x7f\\x9b')
  t.equal(visible('\u202eexe.txt\u2066\u200b\u2028\ufeff'), '\\u202eexe.txt\\u2066\\u200b\\u2028\\ufeff')
  t.equal(visible('\ud800'), '\\ud800', 'a lone surrogate')
  t.equal(oneLine('first\nsecond\x1b[2K'), 'first; second\\x1b[2K', 'errors: one line, then escaped')
})

t.test('issue 17 s6: a refused privileged port says to use a port of 1024 or more, or grant the capability', async t => {
  const err = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' })
  const e = listenError(err, { address: { host: '0.0.0.0', port: 80 } })
  t.equal(e.code, 'ERR_NETWORK')
  t.equal(e.message, 'cannot listen on 0.0.0.0:80: permission denied; ports below 1024 need privileges: use a port of 1024 or more (--listen 0.0.0.0:7070), or allow node to bind them (sudo setcap cap_net_bind_service=+ep "$(command -v node)")')
  t.notMatch(e.message, /EACCES/)
  t.match(listenError(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), { address: { host: '10.9.9.9', port: 7070 } }).message, /not one of this machine's/)
})
