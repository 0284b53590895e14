/**
 * keys.ts: authorized keys from a multi-key PEM file or a directory, missing and empty inputs
 * (ERR_KEY), and writeKeyPair's file modes and refusal to overwrite.
 */
import t from 'tap'
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fingerprint, loadAuthorizedKeys, loadPrivateKey, loadPublicKey, sshFingerprint, writeKeyPair } from '../../src/keys/load.js'
import { writeKeyFile } from '../../src/keys/file.js'
import { fileSignature, reloadOnChange } from '../../src/keys/reload.js'
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

t.test('issue 17 s2: reloadOnChange runs the load again only when a stat of the files changed', async t => {
  const k = await testKeys()
  const file = join(dir, 'reload.pem')
  writeFileSync(file, pem(k.client.publicKey))
  let loads = 0
  const lookup = reloadOnChange([file], () => { loads++; return loadAuthorizedKeys(file) })
  const first = lookup()
  for (let i = 0; i < 5; i++) t.equal(lookup(), first, 'unchanged: the same array, not parsed again')
  t.equal(loads, 1)
  writeFileSync(file, pem(k.stranger.publicKey)) // same length, same inode: size and mtime/ctime tell
  t.same(lookup().map(fingerprint), [fingerprint(k.stranger.publicKey)], 'rewritten in place: read again')
  t.equal(loads, 2)
  const tmp = join(dir, 'reload.tmp')
  writeFileSync(tmp, pem(k.client.publicKey) + pem(k.server.publicKey))
  renameSync(tmp, file) // a new inode, as writeKeyFile does
  t.equal(lookup().length, 2, 'replaced by rename: read again')
  writeFileSync(file, 'no key here\n')
  t.throws(() => lookup(), { code: 'ERR_KEY' }, 'a broken list throws')
  const before = loads
  t.throws(() => lookup(), { code: 'ERR_KEY' }, 'and keeps throwing while unchanged')
  t.equal(loads, before, 'without parsing it again')
  rmSync(file)
  t.throws(() => lookup(), { code: 'ERR_KEY' }, 'a removed file is read again, and fails')
})

t.test('issue 17 s2: the signature of a directory covers its entries, so an added key file is seen', async t => {
  const k = await testKeys()
  const d = join(dir, 'reload.d')
  mkdirSync(d)
  writeFileSync(join(d, 'a.pem'), pem(k.client.publicKey))
  const lookup = reloadOnChange([d], () => loadAuthorizedKeys(d))
  t.equal(lookup().length, 1)
  const sig = fileSignature([d])
  t.equal(fileSignature([d]), sig, 'stable while nothing changes')
  writeFileSync(join(d, 'b.pem'), pem(k.stranger.publicKey))
  t.not(fileSignature([d]), sig)
  t.equal(lookup().length, 2, 'the added file is loaded')
  chmodSync(join(d, 'b.pem'), 0o600)
  t.not(fileSignature([d]), fileSignature([join(dir, 'nothing-here')]), 'a missing path has its own signature')
  // Rewritten in place, a file changes its own stat but not its directory's: only the entries tell.
  const dirStat = statSync(d, { bigint: true })
  writeFileSync(join(d, 'a.pem'), pem(k.server.publicKey))
  t.equal(statSync(d, { bigint: true }).mtimeNs, dirStat.mtimeNs, 'the directory itself is unchanged')
  t.same(lookup().map(fingerprint).sort(), [fingerprint(k.server.publicKey), fingerprint(k.stranger.publicKey)].sort(), 'a key file rewritten in place is read again')
})

t.test('SPEC 3.7: writeKeyFile refuses an existing name without replace, leaves it as it was, and leaves no temp file', async t => {
  const d = join(dir, 'write')
  mkdirSync(d)
  const target = join(d, 'identity')
  const fds = () => existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0
  const openBefore = fds()
  writeKeyFile(target, 'first\n', { mode: 0o600, replace: false })
  t.equal(readFileSync(target, 'utf8'), 'first\n')
  t.equal(statSync(target).mode & 0o777, 0o600)
  let err: (Error & { code?: string }) | undefined
  try { writeKeyFile(target, 'second\n', { mode: 0o600, replace: false }) } catch (e) { err = e as Error & { code?: string } }
  t.equal(err?.code, 'ERR_KEY', 'an existing file is ERR_KEY')
  t.match(err?.message, target, 'the message names the file')
  t.match(err?.message, /--force/, 'and says how to overwrite it')
  t.equal(readFileSync(target, 'utf8'), 'first\n', 'the existing file is unchanged')
  const victim = join(dir, 'write-victim')
  symlinkSync(victim, join(d, 'dangling'))
  t.throws(() => writeKeyFile(join(d, 'dangling'), 'key\n', { mode: 0o600, replace: false }), { code: 'ERR_KEY' }, 'a dangling symlink is an existing name')
  t.notOk(existsSync(victim), 'the symlink was not followed')
  writeKeyFile(join(d, 'dangling'), 'key\n', { mode: 0o600, replace: true })
  t.notOk(existsSync(victim), 'replace swaps the symlink for a file; it does not write through it')
  t.notOk(lstatSync(join(d, 'dangling')).isSymbolicLink())
  writeKeyFile(target, 'third\n', { mode: 0o600, replace: true })
  t.equal(readFileSync(target, 'utf8'), 'third\n', 'replace overwrites')
  t.same(readdirSync(d).sort(), ['dangling', 'identity'], 'no temp file is left, after a refusal or a write')
  t.throws(() => writeKeyFile(join(d, 'no-such-dir', 'x'), 'x', { mode: 0o600, replace: false }), { code: 'ENOENT' }, 'other errors pass through')
  t.equal(fds(), openBefore, 'no file descriptor is left open')
})
