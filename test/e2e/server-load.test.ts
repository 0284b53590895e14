/**
 * issue 5, the small version of `npm run stress` load and garbage: concurrent honest clients
 * (library `connect`) against `recv --keep-open --output-dir` with hostile connections mixed
 * in, and a replayed ClientHello against the library server, which must never yield a session.
 * Loopback only; every wait bounded.
 */
import t from 'tap'
import { once } from 'node:events'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { createServer, receiveEntries, type SecureServer, type SecureStream } from '../../src/index.js'
import { makeKeys, sha256File, tempDir, waitFor } from '../helpers/cli.js'
import type { TapTest } from '../helpers/streams.js'
import { loadKeys, payload, payloadDigest, sendOnce, within } from '../stress/peers.js'
import { attack, recordHandshake, type GarbageKind } from '../stress/attackers.js'
import { serverHelloFrame, sourceVerdict } from '../stress/garbage.js'
import { startKeepOpen } from '../stress/server.js'

const files = makeKeys(tempDir(t))
const keys = loadKeys(files)
/** In its own /24: 127.0.0.2 would share 127.0.0.1's source (SPEC 7.3). */
const HOSTILE_FROM = '127.0.1.2'
const HOSTILE: GarbageKind[] = ['random', 'random', 'huge-length', 'stranger', 'replay-finished', 'replay-close']

t.test('issue 5, 8.5: 20 clients at once, 256 KiB each, with garbage from 127.0.1.2 mixed in: every honest transfer verified, the hostile ones logged as one line then one line of counts', async t => {
  const server = await startKeepOpen(t, files, join(tempDir(t), 'inbox'))
  const recorded = await recordHandshake(server.port, keys)
  const payloads = Array.from({ length: 20 }, (_, i) => payload(`e2e-load-${i}`, 256 * 1024))
  const honest = Promise.all(payloads.map(p => sendOnce(server.port, keys, p)))
  const attacks = await Promise.all(HOSTILE.map(k => attack(k, server.port, keys, recorded, HOSTILE_FROM)))

  const sent = await within(honest, 60_000, 'honest transfers')
  t.same(sent.map(s => s.digest).sort(), payloads.map(payloadDigest).sort(), 'every receipt carries the server-side SHA-256 of its payload')
  await within(Promise.all(attacks.map(a => a.peer.closed)), 20_000, 'hostile connections closed')
  // The summary comes when the source's 10 s interval ends.
  await waitFor(() => server.summaries().length >= 1, 'the summary line of 127.0.1.0/24', 30_000)
  const v = sourceVerdict(server, attacks, HOSTILE_FROM)
  t.ok(v.ok, `each hostile connection counted with its code (${v.logged})`)
  t.equal(v.lines, 2, `${attacks.length} failures from one source: two lines`)
  t.ok(server.failures().every(f => f.phase === 'handshake' && f.host === HOSTILE_FROM), 'no hostile connection reached the transfer stage; no honest one failed')

  await sendOnce(server.port, keys, payload('e2e-after', 1000))
  await waitFor(() => server.received() === 22, 'a summary line per transfer')
  const onDisk = await Promise.all(server.files().map(f => sha256File(join(server.dir, f))))
  t.equal(onDisk.length, 22, 'the recorded, the 20 and the last transfer: one file each, no temporary file')
  t.ok(payloads.map(payloadDigest).every(d => onDisk.includes(d)), 'each file on disk hashes to its payload')
  t.equal((await server.stop()).code, 143, 'it was still serving; SIGTERM ends it')
})

/** A library server that receives each transfer with `receiveEntries` (SPEC 8), discarding the data. */
async function receiptServer(t: TapTest, extra: { handshakeTimeoutMs?: number } = {}): Promise<{ server: SecureServer, port: number, secured: SecureStream[], errors: Array<{ code: string, remote: string }> }> {
  const secured: SecureStream[] = []
  const errors: Array<{ code: string, remote: string }> = []
  const server = createServer({ privateKey: keys.server, authorizedKeys: [keys.clientPK], ...extra }, stream => {
    secured.push(stream)
    const discard = new Writable({ write: (_chunk, _enc, cb) => cb() })
    receiveEntries(stream, { kind: 'writable', writable: discard, name: 'nowhere' }).catch(() => {})
  })
  server.on('handshakeError', (err: { code: string }, remote: string) => errors.push({ code: err.code, remote }))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => { for (const s of secured) s.destroy(); server.close(() => resolve()) }))
  return { server, port: (server.address() as AddressInfo).port, secured, errors }
}

const REPLAYS: GarbageKind[] = ['replay-finished', 'replay-close', 'replay-stall']

t.test('issue 8.5: a ClientHello replayed at the server it was recorded at is refused with ERR_AUTH before any RSA work: no ServerHello', async t => {
  const { server, port, secured, errors } = await receiptServer(t, { handshakeTimeoutMs: 1500 })
  const recorded = await recordHandshake(port, keys)
  const attacks = await Promise.all(REPLAYS.map(k => attack(k, port, keys, recorded)))
  await within(Promise.all(attacks.map(a => a.peer.closed)), 20_000, 'the replays closed')
  await waitFor(() => errors.length === REPLAYS.length, 'a handshakeError per replay')
  for (const a of attacks) {
    t.same(errors.filter(e => e.remote === `127.0.0.1:${a.peer.localPort}`).map(e => e.code), ['ERR_AUTH'], `${a.kind}: ERR_AUTH`)
    t.equal(a.peer.received().length, 0, `${a.kind}: not a byte back (a ServerHello would mean an RSA decryption)`)
  }
  t.equal(secured.length, 1, 'only the recorded session')
  t.same(server.handshakes, { active: 0, waiting: 0 }, 'every handshake slot released')
})

t.test('SPEC 10.1: a ClientHello replayed at another server with the same keys gets a fresh ServerHello and never a secureConnection; the slots are all released', async t => {
  // One recorded session per replay: the second replay of one ClientHello would be refused by the cache.
  const elsewhere = (await receiptServer(t)).port
  const recordings = await Promise.all(REPLAYS.map(() => recordHandshake(elsewhere, keys)))
  const { server, port, secured, errors } = await receiptServer(t, { handshakeTimeoutMs: 1500 })
  const kinds: GarbageKind[] = [...REPLAYS, 'stranger', 'huge-length']
  const attacks = await Promise.all(kinds.map((k, i) => attack(k, port, keys, recordings[i])))
  const honest = await sendOnce(port, keys, payload('during-replays', 64 * 1024))
  t.equal(honest.bytes, 64 * 1024, 'an honest client meanwhile')
  await within(Promise.all(attacks.map(a => a.peer.closed)), 20_000, 'hostile connections closed')
  await waitFor(() => errors.length === kinds.length, 'a handshakeError per hostile connection')

  t.equal(secured.length, 1, 'secureConnection only for the honest client')
  for (const [i, a] of attacks.entries()) {
    const mine = errors.filter(e => e.remote === `127.0.0.1:${a.peer.localPort}`)
    t.same(mine.map(e => e.code), a.expect, `${a.kind}: handshakeError ${a.expect.join(' or ')}`)
    if (a.kind.startsWith('replay')) {
      const sh = serverHelloFrame(a)
      t.ok(sh && !sh.equals(recordings[i]!.serverHello), `${a.kind}: answered with a fresh ServerHello, then nothing`)
      t.equal(a.peer.received().length, sh?.length, `${a.kind}: no ServerFinished`)
    }
  }
  t.same(server.handshakes, { active: 0, waiting: 0 }, 'every handshake slot released')
})
