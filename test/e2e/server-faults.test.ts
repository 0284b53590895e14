/**
 * issue 5, the small version of `npm run stress` slow peers and faults: a stalled half
 * ClientHello is dropped by the handshake timeout (SPEC 3.7), a peer idle after its handshake by
 * the idle timeout, a sender SIGKILLed mid-transfer leaves no file in `--output-dir`; and the
 * library's `maxHandshakes` cap: beyond it connections wait, unread, within their deadline.
 */
import t from 'tap'
import { once } from 'node:events'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { createServer, type SecureServer, type SecureStream } from '../../src/index.js'
import { makeKeys, tempDir, waitFor, type Teardown, type TestKeys } from '../helpers/cli.js'
import type { TapTest } from '../helpers/streams.js'
import { loadKeys, openClient, payload, sendOnce, sleep, within } from '../stress/peers.js'
import { attack, clientHelloFrame, rawPeer } from '../stress/attackers.js'
import { partialWithData, stalledSender } from '../stress/faults.js'
import { startKeepOpen, type KeepOpenServer } from '../stress/server.js'

const files = makeKeys(tempDir(t))
const keys = loadKeys(files)

/** `recv --keep-open`, or a skip with the reason when this CLI does not have it yet. */
async function keepOpen(t: TapTest & Teardown, k: TestKeys, extra: string[] = []): Promise<KeepOpenServer | null> {
  try {
    return await startKeepOpen(t, k, join(tempDir(t), 'inbox'), extra)
  } catch (err) {
    if (/Unknown argument|keep-open|output-dir/i.test(String(err))) {
      t.plan(0, `the CLI has no working recv --keep-open --output-dir yet: ${String(err).split('\n')[0]}`)
      return null
    }
    throw err
  }
}

t.test('SPEC 3.7, issue 5: a stalled half ClientHello and a peer idle after the handshake are dropped with ERR_TIMEOUT, one line each', async t => {
  const server = await keepOpen(t, files, ['--handshake-timeout', '2', '--idle-timeout', '2'])
  if (!server) return
  const half = await attack('half-hello', server.port, keys)
  const idle = await openClient(server.port, keys)
  const idleClosed = new Promise<string>(resolve => {
    let code = 'none'
    idle.stream.on('error', (e: { code?: string }) => { code = e.code ?? 'unknown' })
    idle.stream.once('close', () => resolve(code))
  })
  await within(half.peer.closed, 20_000, 'the half ClientHello dropped')
  const idleCode = await within(idleClosed, 20_000, 'the idle peer dropped')
  t.ok(['ERR_TRUNCATED', 'ERR_NETWORK'].includes(idleCode), `the idle client sees its connection end without a close record (${idleCode})`)
  await waitFor(() => server.failures().length >= 2, 'two failure lines')
  t.same(server.failuresOf(half.peer.localPort).map(f => `${f.phase} ${f.code}`), ['handshake ERR_TIMEOUT'], 'half ClientHello: one handshake line')
  t.same(server.failuresOf(idle.localPort).map(f => `${f.phase} ${f.code}`), ['transfer ERR_TIMEOUT'], 'idle peer: one transfer line')
  t.same(server.partials(), [], 'the idle peer\'s temporary file is gone')
  await sendOnce(server.port, keys, payload('after-timeouts', 100_000))
  t.equal(server.files().length, 1, 'the next client is served')
})

t.test('issue 5: a sender SIGKILLed mid-transfer leaves no file in --output-dir; the server serves the next client', async t => {
  const server = await keepOpen(t, files)
  if (!server) return
  const send = stalledSender(t, files, server.port, 1024 * 1024)
  await partialWithData(server.dir)
  send.child.kill('SIGKILL')
  await waitFor(() => server.failures().length === 1, 'the server to log the cut transfer')
  const [line] = server.failures()
  t.ok(line!.phase === 'transfer' && ['ERR_TRUNCATED', 'ERR_NETWORK'].includes(line!.code), `one line: ${line!.line}`)
  t.same(server.files(), [], 'no file, no temporary file')
  await sendOnce(server.port, keys, payload('after-kill', 100_000))
  t.equal(server.files().length, 1, 'the next client is served')
  t.equal((await server.stop()).code, 143)
})

/** A library server with a small `maxHandshakes`, recording handshake errors by peer address. */
async function cappedServer(t: TapTest, maxHandshakes: number, maxWaiting?: number): Promise<{ server: SecureServer, port: number, secured: SecureStream[], errors: Map<string, string> }> {
  const secured: SecureStream[] = []
  const errors = new Map<string, string>()
  const server = createServer({ privateKey: keys.server, authorizedKeys: [keys.clientPK], maxHandshakes, handshakeTimeoutMs: 2000, ...(maxWaiting === undefined ? {} : { maxWaiting }) }, s => {
    secured.push(s)
    s.on('error', () => {})
    s.resume()
    s.on('end', () => s.end()) // no data from these clients: end our side when they end theirs
  })
  server.on('handshakeError', (err: { code: string }, remote: string) => errors.set(remote, err.code))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => { for (const s of secured) s.destroy(); server.close(() => resolve()) }))
  return { server, port: (server.address() as AddressInfo).port, secured, errors }
}

/** Peers that hold a slot come from their own /24, so that their timeouts' penalty (SPEC 7.3) is not 127.0.0.1's. */
const STALLER = '127.0.1.2'

t.test('issue 5: beyond maxHandshakes a connection waits, unread, and is served once a slot frees', async t => {
  const { server, port, errors } = await cappedServer(t, 2)
  const stalled = await Promise.all([attack('hello-stall', port, keys, undefined, STALLER), attack('hello-stall', port, keys, undefined, STALLER)])
  await waitFor(() => server.handshakes.active === 2, 'both slots taken')
  const honest = (async () => openClient(port, keys))()
  await waitFor(() => server.handshakes.waiting === 1, 'the honest client waiting')
  t.same(server.handshakes, { active: 2, waiting: 1 })
  const client = await within(honest, 20_000, 'the honest handshake once a stalled peer timed out')
  await within(Promise.all(stalled.map(s => s.peer.closed)), 20_000, 'both stalled peers dropped')
  await waitFor(() => errors.size >= 2, 'a handshakeError for each stalled peer')
  for (const s of stalled) t.equal(errors.get(`${STALLER}:${s.peer.localPort}`), 'ERR_TIMEOUT', 'the stalled peer that held a slot: ERR_TIMEOUT')
  t.equal(errors.size, 2, 'the waiting client was not failed')
  client.stream.end()
  client.stream.resume()
  await once(client.stream, 'end')
  t.same(server.handshakes, { active: 0, waiting: 0 })
})

t.test('issue 5: a connection whose deadline passes while it waits for a slot is closed unread', async t => {
  const { server, port, errors } = await cappedServer(t, 1)
  const a = await attack('hello-stall', port, keys, undefined, STALLER) // holds the slot until its deadline
  await sleep(100)
  const b = await attack('hello-stall', port, keys, undefined, STALLER) // gets the slot when A times out, holds it 2 s more
  await sleep(100)
  const c = await rawPeer(port)
  c.socket.write(clientHelloFrame(keys.client, keys.serverPK)) // a whole valid ClientHello: a slot would answer it
  await within(c.closed, 20_000, 'the waiting connection closed')
  t.equal(c.received().length, 0, 'no ServerHello: it never got a slot, and no RSA work was done for it')
  await within(Promise.all([a.peer.closed, b.peer.closed]), 20_000, 'the stalled peers dropped')
  await waitFor(() => errors.size >= 2, 'a handshakeError for each stalled peer')
  t.equal(errors.get(`${STALLER}:${a.peer.localPort}`), 'ERR_TIMEOUT')
  t.equal(errors.get(`${STALLER}:${b.peer.localPort}`), 'ERR_TIMEOUT')
  t.same(server.handshakes, { active: 0, waiting: 0 })
  t.equal(errors.get(`127.0.0.1:${c.localPort}`), 'ERR_TIMEOUT', 'it is reported like any other handshake failure (one log line)')
})

t.test('issue 5: beyond maxWaiting a new connection is closed at once, unread, and reported (ERR_NETWORK)', async t => {
  const { server, port, errors } = await cappedServer(t, 1, 1)
  const a = await attack('hello-stall', port, keys, undefined, STALLER) // holds the only slot
  await waitFor(() => server.handshakes.active === 1, 'the slot taken')
  const b = await rawPeer(port) // waits
  await waitFor(() => server.handshakes.waiting === 1, 'one waiting')
  const c = await rawPeer(port) // over the cap
  c.socket.write(clientHelloFrame(keys.client, keys.serverPK))
  await within(c.closed, 5_000, 'the connection over the cap closed')
  t.equal(c.received().length, 0, 'no ServerHello for it')
  await waitFor(() => errors.has(`127.0.0.1:${c.localPort}`), 'its handshakeError')
  t.equal(errors.get(`127.0.0.1:${c.localPort}`), 'ERR_NETWORK')
  t.same(server.handshakes, { active: 1, waiting: 1 }, 'the others are untouched')
  b.socket.destroy()
  await within(a.peer.closed, 20_000, 'the stalled peer dropped')
})
