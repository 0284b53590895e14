/**
 * keys/openssh.ts and keys/list.ts against hostile or malformed input (issue 10): every bad
 * `ssh-rsa` line or list line is ERR_KEY naming where it came from; a well-formed line
 * round-trips to the same key; a private key is refused where a public one belongs.
 */
import t from 'tap'
import { formatSshPublicKey, parseSshPublicKey, sshFingerprint } from '../../src/keys/openssh.js'
import { parseKeyList } from '../../src/keys/list.js'
import { parsePublicKeys, parsePublicKeyText, PRIVATE_NOT_PUBLIC } from '../../src/keys/load.js'
import { createHash } from 'node:crypto'
import { spkiDer } from '../../src/crypto/rsa.js'
import { pem, testKeys } from '../helpers/keys.js'

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}

t.test('issue 10: an ssh-rsa line round-trips; its fingerprint is SHA256 of the blob, unpadded', async t => {
  const k = await testKeys()
  const line = formatSshPublicKey(k.client.publicKey, 'bob@laptop')
  t.match(line, /^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+ bob@laptop$/)
  const back = parseSshPublicKey(line, 'line')
  t.equal(back.comment, 'bob@laptop')
  t.same(spkiDer(back.key), spkiDer(k.client.publicKey), 'the same key')
  t.match(sshFingerprint(k.client.publicKey), /^SHA256:[A-Za-z0-9+/]{43}$/)
  t.equal(sshFingerprint(k.client.privateKey), sshFingerprint(k.client.publicKey), 'from the private key too')
  t.not(sshFingerprint(k.client.publicKey), 'SHA256:' + createHash('sha256').update(spkiDer(k.client.publicKey)).digest('base64').replace(/=+$/, ''), 'not the SPKI hash')
})

t.test('issue 10: malformed ssh-rsa lines are ERR_KEY naming their source', async t => {
  const k = await testKeys()
  const blob = Buffer.from(formatSshPublicKey(k.client.publicKey).split(' ')[1]!, 'base64')
  const cases: Array<[string, string]> = [
    ['not base64', 'ssh-rsa !!!!'],
    ['another key type', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x'],
    ['truncated blob', `ssh-rsa ${blob.subarray(0, blob.length - 7).toString('base64')}`],
    ['length past the end', `ssh-rsa ${Buffer.concat([sshString(Buffer.from('ssh-rsa')), Buffer.from([0xff, 0xff, 0xff, 0xff, 1])]).toString('base64')}`],
    ['type inside differs', `ssh-rsa ${Buffer.concat([sshString(Buffer.from('ssh-dss')), blob.subarray(11)]).toString('base64')}`],
    ['extra field', `ssh-rsa ${Buffer.concat([blob, sshString(Buffer.from('x'))]).toString('base64')}`],
    ['small key', `ssh-rsa ${Buffer.concat([sshString(Buffer.from('ssh-rsa')), sshString(Buffer.from([1, 0, 1])), sshString(Buffer.alloc(65, 0x7f))]).toString('base64')}`],
  ]
  for (const [what, line] of cases) t.throws(() => parseSshPublicKey(line, 'the pasted key'), { code: 'ERR_KEY', message: /the pasted key/ }, what)
})

t.test('issue 10: a private key where a public key belongs is refused with the one sentence', async t => {
  const k = await testKeys()
  for (const text of [pem(k.client.privateKey), k.client.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(), pem(k.server.publicKey) + pem(k.client.privateKey)]) {
    t.throws(() => parsePublicKeyText(text, 'x'), { code: 'ERR_KEY', message: `x: ${PRIVATE_NOT_PUBLIC}` })
    t.throws(() => parsePublicKeys(text, 'y'), { code: 'ERR_KEY', message: `y: ${PRIVATE_NOT_PUBLIC}` })
  }
})

t.test('issue 10: key lists skip comments and blanks; a bad line names file and line', async t => {
  const k = await testKeys()
  const a = formatSshPublicKey(k.client.publicKey, 'alice')
  const entries = parseKeyList(`# header\n\n${a}\n  \n`, 'authorized_keys', 'authorized')
  t.equal(entries.length, 1)
  t.equal(entries[0]!.comment, 'alice')
  t.equal(entries[0]!.fingerprint, sshFingerprint(k.client.publicKey))
  t.throws(() => parseKeyList(`${a}\nssh-rsa garbage!\n`, 'authorized_keys', 'authorized'), { code: 'ERR_KEY', message: /authorized_keys line 2/ })
  t.throws(() => parseKeyList('lonelyhost\n', 'known_peers', 'pins'), { code: 'ERR_KEY', message: /known_peers line 1 has no key/ })
  const pins = parseKeyList(`host:7070 ${a}\n`, 'known_peers', 'pins')
  t.equal(pins[0]!.target, 'host:7070')
})
