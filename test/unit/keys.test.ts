/**
 * keys.ts: authorized keys from a multi-key PEM file or a directory, missing and empty inputs
 * (ERR_KEY), and writeKeyPair's file modes and refusal to overwrite.
 */
import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fingerprint, loadAuthorizedKeys, loadPrivateKey, loadPublicKey, sshFingerprint, writeKeyPair } from '../../src/keys/load.js'
import { pem, testKeys } from '../helpers/keys.js'

const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-keys-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('SPEC 3.2: authorized keys: a PEM file with several keys (SPKI and PKCS#1) yields them all, in order', async t => {
  const k = await testKeys()
  const pkcs1 = k.server.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString()
  const file = join(dir, 'authorized.pem')
  writeFileSync(file, `# the team's keys\n${pem(k.client.publicKey)}\nalice's laptop:\n${pem(k.stranger.publicKey)}${pkcs1}`)
  const keys = loadAuthorizedKeys(file)
  t.same(keys.map(fingerprint), [k.client.publicKey, k.stranger.publicKey, k.server.publicKey].map(fingerprint))
})

t.test('SPEC 3.2: authorized keys: a directory yields the keys of its *.pem files, sorted by name', async t => {
  const k = await testKeys()
  const d = join(dir, 'authorized.d')
  mkdirSync(d)
  writeFileSync(join(d, 'b.pem'), pem(k.server.publicKey))
  writeFileSync(join(d, 'a.pem'), pem(k.client.publicKey) + pem(k.stranger.publicKey))
  writeFileSync(join(d, 'notes.txt'), 'not a key')
  t.same(loadAuthorizedKeys(d).map(fingerprint), [k.client.publicKey, k.stranger.publicKey, k.server.publicKey].map(fingerprint))
})

t.test('SPEC 9: authorized keys: missing, empty or keyless inputs are ERR_KEY', async t => {
  const empty = join(dir, 'empty.d')
  mkdirSync(empty)
  const onlyText = join(dir, 'text.d')
  mkdirSync(onlyText)
  writeFileSync(join(onlyText, 'readme.txt'), 'nothing here')
  const noPem = join(dir, 'nopem.pem')
  writeFileSync(noPem, 'this is not a PEM file\n')
  const broken = join(dir, 'broken.pem')
  writeFileSync(broken, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')
  for (const [what, path] of [['missing file', join(dir, 'nope.pem')], ['empty directory', empty], ['directory without .pem', onlyText], ['file without PEM', noPem], ['broken PEM block', broken]]) {
    t.throws(() => loadAuthorizedKeys(path!), { code: 'ERR_KEY' }, what)
  }
  t.throws(() => loadPrivateKey(join(dir, 'nope.pem')), { code: 'ERR_KEY' }, 'missing private key file')
  t.throws(() => loadPublicKey(join(dir, 'nope.pem')), { code: 'ERR_KEY' }, 'missing public key file')
})

t.test('SPEC 3.7, 9: writeKeyPair: private key mode 0600, loadable pair, refusal without force, overwrite with force', async t => {
  const out = join(dir, 'gen')
  const first = writeKeyPair({ dir: out, name: 'server', bits: 2048 })
  t.equal(first.privateKeyPath, join(out, 'server.pem'))
  t.equal(first.publicKeyPath, join(out, 'serverPK.pem'))
  t.equal(statSync(first.privateKeyPath).mode & 0o777, 0o600, 'private key mode 0600')
  t.equal(sshFingerprint(loadPrivateKey(first.privateKeyPath)), first.fingerprint, 'the private key matches the fingerprint')
  t.equal(sshFingerprint(loadPublicKey(first.publicKeyPath)), first.fingerprint, 'the public key matches the fingerprint')

  const before = [readFileSync(first.privateKeyPath, 'utf8'), readFileSync(first.publicKeyPath, 'utf8')]
  t.throws(() => writeKeyPair({ dir: out, name: 'server', bits: 2048 }), { code: 'ERR_KEY' }, 'refuses to overwrite')
  t.same([readFileSync(first.privateKeyPath, 'utf8'), readFileSync(first.publicKeyPath, 'utf8')], before, 'both files unchanged')
  rmSync(first.privateKeyPath)
  t.throws(() => writeKeyPair({ dir: out, name: 'server', bits: 2048 }), { code: 'ERR_KEY' }, 'refuses when only the public file exists')

  writeFileSync(first.privateKeyPath, 'old', { mode: 0o644 })
  chmodSync(first.privateKeyPath, 0o644)
  const second = writeKeyPair({ dir: out, name: 'server', bits: 2048, force: true })
  t.not(second.fingerprint, first.fingerprint, 'force writes a new pair')
  t.equal(statSync(second.privateKeyPath).mode & 0o777, 0o600, 'an overwritten private key is mode 0600 again')
  t.equal(sshFingerprint(loadPublicKey(second.publicKeyPath)), second.fingerprint)
  t.throws(() => writeKeyPair({ dir: out, name: '../escape' }), RangeError, 'names cannot hold paths')
})
