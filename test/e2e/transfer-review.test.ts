/**
 * issue 9, findings of the attack review of the transfer layer (SPEC 8.6, 8.7), each through the
 * real CLI or a peer built from the library: existing directories keep their mode, modes pass
 * the umask, a complete-file resume offer discloses no digest, a listed file swapped for a link
 * is never read, dates before 1970 survive, stdin gets its --sha256 line, and a second
 * `--resume` over a tree with an empty file and a link succeeds.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ByteQueue, connect, createServer, encodeManifest, listSources, loadAuthorizedKeys, loadPrivateKey, loadPublicKey, receiveEntries, sendEntries, takeReady, type SecureStream,
} from '../../src/index.js'
import { listenArgs, makeKeys, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { cliTransfer, setMtimeMs, summaryOf } from '../helpers/transfer.js'
import type { TapTest } from '../helpers/streams.js'

const dir = tempDir(t, 'secure-pipe-review-')
const keys = makeKeys(join(dir, 'keys'))
const UMASK = process.umask()

t.test('SPEC 8.7: a directory that exists in DIR keeps its mode; one the transfer creates gets the sender\'s, under the umask', async t => {
  const src = join(dir, 'm-src')
  mkdirSync(join(src, 'sub'), { recursive: true })
  mkdirSync(join(src, 'fresh'))
  writeFileSync(join(src, 'sub', 'f'), 'x')
  writeFileSync(join(src, 'open.txt'), 'world-writable at the source')
  chmodSync(join(src, 'sub'), 0o777)
  chmodSync(join(src, 'fresh'), 0o777)
  chmodSync(join(src, 'open.txt'), 0o666)
  const out = join(dir, 'm-out')
  mkdirSync(join(out, 'sub'), { recursive: true })
  chmodSync(join(out, 'sub'), 0o700)
  const r = await cliTransfer(t, keys, [out], [join(src, 'sub'), join(src, 'fresh'), join(src, 'open.txt')])
  t.equal(r.send.code, 0, r.send.stderr)
  t.equal(statSync(join(out, 'sub')).mode & 0o777, 0o700, 'the existing directory keeps its mode')
  t.equal(statSync(join(out, 'fresh')).mode & 0o777, 0o777 & ~UMASK, 'a created directory: the sender\'s mode under the umask')
  t.equal(statSync(join(out, 'open.txt')).mode & 0o777, 0o666 & ~UMASK, 'a file: the sender\'s mode under the umask')
})

t.test('SPEC 8.1: a date before 1970 arrives as sent (Node turns a negative utimes number into "now")', async t => {
  const src = join(dir, 'old.txt')
  writeFileSync(src, 'old')
  utimesSync(src, new Date(-86_400_000 * 365), new Date(-86_400_000 * 365)) // a Date: a negative number would mean "now"
  t.equal(Math.trunc(statSync(src).mtimeMs), -86_400_000 * 365, 'the source is dated 1969')
  const out = join(dir, 'old-out')
  mkdirSync(out)
  const r = await cliTransfer(t, keys, [out], [src])
  t.equal(r.send.code, 0, r.send.stderr)
  t.equal(Math.trunc(statSync(join(out, 'old.txt')).mtimeMs), -86_400_000 * 365)
})

t.test('SPEC 8.5.3: send --sha256 of stdin prints the stream\'s hash at both ends', async t => {
  const data = Buffer.from('hello stdin\n')
  const r = await cliTransfer(t, keys, ['--sha256', join(dir, 'stdin.out')], ['--sha256', '-'], { stdin: data })
  const line = `${createHash('sha256').update(data).digest('hex')}  -`
  t.equal(r.send.code, 0, r.send.stderr)
  t.match(r.send.stderr, line, 'the sender prints HEX  -')
  t.match(r.recv.stderr, createHash('sha256').update(data).digest('hex'), 'the receiver prints the same hash')
})

t.test('SPEC 8.6: --resume again over a complete tree with an empty file and a link moves nothing and exits 0', async t => {
  const src = join(dir, 'again')
  mkdirSync(src)
  writeFileSync(join(src, 'empty'), '')
  writeFileSync(join(src, 'full'), 'content')
  symlinkSync('full', join(src, 'lnk'))
  const out = join(dir, 'again-out')
  mkdirSync(out)
  const first = await cliTransfer(t, keys, [out], ['--resume', '--links', src])
  t.equal(first.send.code, 0, first.send.stderr)
  const again = await cliTransfer(t, keys, [out], ['--resume', '--links', src])
  t.equal(again.send.code, 0, again.send.stderr)
  t.equal(again.recv.code, 0, again.recv.stderr)
  t.equal(summaryOf(again.send.stderr, 'sent')?.bytes, 4, 'only the link\'s 4-byte target moved: the files were proven equal, not sent')
  t.ok(lstatSync(join(out, 'again', 'lnk')).isSymbolicLink())
})

t.test('SPEC 8.6: a complete-file resume offer discloses no digest of the receiver\'s file; a sender that cannot prove the content is refused', async t => {
  const out = join(dir, 'secret-out')
  mkdirSync(out)
  writeFileSync(join(dir, 'secret'), 'topsecret-content\n')
  setMtimeMs(join(dir, 'secret'), 1_600_000_000_000)
  const first = await cliTransfer(t, keys, [out], ['--resume', join(dir, 'secret')]) // this key wrote it: the only one offered it (issue 17, F5)
  t.equal(first.send.code, 0, first.send.stderr)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), out])
  const port = await waitForListening(recv)
  const s = await connect({ host: '127.0.0.1', port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })
  const q = new ByteQueue()
  s.on('data', (c: Buffer) => q.push(c))
  s.on('error', () => {})
  const entries = [{ type: 'file' as const, name: 'secret', mode: 0o600, mtimeMs: 1_600_000_000_000, size: 18 }]
  s.write(encodeManifest(entries, { resume: true }))
  for (let i = 0; i < 100 && q.length < 8 + 44; i++) await once(s, 'data')
  const offers = takeReady(q, entries, true)
  t.equal(offers?.length, 1, 'an offer for the complete file')
  t.same(offers?.[0]?.digest, Buffer.alloc(32), 'with an all-zero digest, not the file\'s')
  t.not(offers?.[0]?.digest.toString('hex'), createHash('sha256').update('topsecret-content\n').digest('hex'))
  s.destroy()
  await recv.done
  t.equal(readFileSync(join(out, 'secret'), 'utf8'), 'topsecret-content\n', 'untouched')
})

/** A session to an in-process receiver that receives one transfer into `out`. */
async function sessionInto(t: TapTest, out: string): Promise<SecureStream> {
  const server = createServer({ privateKey: loadPrivateKey(keys.server), authorizedKeys: loadAuthorizedKeys(keys.clientPK) }, stream => {
    receiveEntries(stream, { kind: 'directory', path: out }).catch(() => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })
}

t.test('issue 9 review: a listed file swapped for a link before it is read is refused (ERR_IO), never sent', async t => {
  const src = join(dir, 'swap')
  mkdirSync(src)
  writeFileSync(join(src, 'a'), 'public')
  writeFileSync(join(dir, 'secret.key'), 'PRIVATE-KEY')
  const entries = await listSources([src])
  rmSync(join(src, 'a'))
  symlinkSync(join(dir, 'secret.key'), join(src, 'a'))
  const out = join(dir, 'swap-out')
  mkdirSync(out)
  const s = await sessionInto(t, out)
  await t.rejects(sendEntries(s, entries), { code: 'ERR_IO', message: /was replaced after it was listed/ })
  t.throws(() => lstatSync(join(out, 'swap', 'a')), 'nothing arrived under that name')
})

for (const size of [100, 200_000]) {
  t.test(`SPEC 8.4: a listed file of ${size} bytes (${size <= 65_536 ? 'read whole' : 'read in pieces'}) that shrank before it is read ends the transfer (ERR_IO), and nothing of it arrives`, async t => {
    const src = join(dir, `shrink-${size}`)
    mkdirSync(src)
    writeFileSync(join(src, 'a'), Buffer.alloc(size, 'x'))
    const entries = await listSources([src])
    truncateSync(join(src, 'a'), size / 2)
    const out = join(dir, `shrink-out-${size}`)
    mkdirSync(out)
    const s = await sessionInto(t, out)
    await t.rejects(sendEntries(s, entries), { code: 'ERR_IO', message: new RegExp(`a shrank from ${size} to ${size / 2} bytes after it was listed`) })
    t.throws(() => lstatSync(join(out, `shrink-${size}`, 'a')), 'nothing arrived under that name')
  })
}
