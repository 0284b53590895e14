/**
 * issue 8 sections 3 and 5 on real sockets: a source over its handshake budget is refused
 * unread with ERR_NETWORK while another source completes its handshake; random early drop;
 * failures summarized per source; established connections capped per key and in total.
 * Hostile sources bind 127.0.1.2 (and its /24 neighbours), honest clients 127.0.0.1: a source
 * is a /24 (SPEC 7.3). No timing assertions.
 */
import t from 'tap'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer, type FailureReport, type SecureServer, type SecureStream, type ServerOptions } from '../../src/index.js'
import { makeKeys, tempDir, waitFor } from '../helpers/cli.js'
import type { TapTest } from '../helpers/streams.js'
import { loadKeys, openClient, within } from '../stress/peers.js'
import { attack, clientHelloFrame, rawPeer } from '../stress/attackers.js'

const keys = loadKeys(makeKeys(tempDir(t)))
const HOSTILE = '127.0.1.2'
/** Another address in HOSTILE's /24: the same source. */
const NEIGHBOUR = '127.0.1.3'

interface Probe { server: SecureServer, port: number, secured: SecureStream[], errors: Map<string, { code: string, message: string }>, reports: FailureReport[] }

async function server(t: TapTest, extra: Partial<ServerOptions>): Promise<Probe> {
  const secured: SecureStream[] = []
  const errors = new Map<string, { code: string, message: string }>()
  const reports: FailureReport[] = []
  const server = createServer({ privateKey: keys.server, authorizedKeys: [keys.clientPK], handshakeTimeoutMs: 3000, ...extra }, s => {
    secured.push(s)
    s.on('error', () => {})
  })
  server.on('handshakeError', (err: { code: string, message: string }, remote: string) => errors.set(remote, err))
  server.on('handshakeFailures', (r: FailureReport) => reports.push(r))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => { for (const s of secured) s.destroy(); server.close(() => resolve()) }))
  return { server, port: (server.address() as AddressInfo).port, secured, errors, reports }
}

/** A connection from `from` that sends a valid ClientHello; resolves with what it got back once the server closed it. */
async function helloFrom(port: number, from: string): Promise<{ localPort: number, received: number }> {
  const peer = await rawPeer(port, from)
  peer.socket.write(clientHelloFrame(keys.client, keys.serverPK))
  await within(peer.closed, 10_000, 'the refused connection closed')
  return { localPort: peer.localPort, received: peer.received().length }
}

t.test('issue 8.5, 17.1: a source that spent its failure budget is refused unread with ERR_NETWORK, also from a /24 neighbour; another source still completes a handshake', async t => {
  const p = await server(t, { perSource: { failureBurst: 3, failuresPerSecond: 0.01 } })
  const strangers = await Promise.all([1, 2, 3].map(() => attack('stranger', p.port, keys, undefined, HOSTILE)))
  await within(Promise.all(strangers.map(s => s.peer.closed)), 10_000, 'the strangers refused')
  await waitFor(() => p.errors.size === 3, 'three handshake failures')
  t.same([...p.errors.values()].map(e => e.code), ['ERR_AUTH', 'ERR_AUTH', 'ERR_AUTH'], 'the strangers, refused for their key')
  const refused = await helloFrom(p.port, NEIGHBOUR)
  t.equal(refused.received, 0, 'an authorized ClientHello from a /24 neighbour of the spent address: closed with no ServerHello, so no RSA work')
  await waitFor(() => p.errors.has(`${NEIGHBOUR}:${refused.localPort}`), 'its handshakeError')
  t.match(p.errors.get(`${NEIGHBOUR}:${refused.localPort}`), { code: 'ERR_NETWORK', message: /too many handshakes without success from 127\.0\.1\.0\/24/ })
  const honest = await within(openClient(p.port, keys), 10_000, 'the honest handshake from 127.0.0.1')
  t.equal(honest.stream.peerFingerprint !== null, true, 'another source completes its handshake')
  t.equal(p.secured.length, 1)
  honest.stream.destroy()
})

t.test('issue 8.5: a source holds at most perSource.handshakes slots and perSource.waiting places; another source is served meanwhile', async t => {
  const p = await server(t, { perSource: { handshakes: 1, waiting: 1 } })
  const stalled = await rawPeer(p.port, HOSTILE) // a whole ClientHello, then silence: its one slot
  stalled.socket.write(clientHelloFrame(keys.client, keys.serverPK))
  await waitFor(() => p.server.handshakes.active === 1, 'the slot taken')
  const queued = await rawPeer(p.port, HOSTILE) // its one place in the queue
  await waitFor(() => p.server.handshakes.waiting === 1, 'one waiting')
  const refused = await helloFrom(p.port, HOSTILE)
  t.equal(refused.received, 0, 'the third connection from 127.0.1.2 got nothing')
  t.match(p.errors.get(`${HOSTILE}:${refused.localPort}`), { code: 'ERR_NETWORK', message: /127\.0\.1\.0\/24 already holds 2 unauthenticated connections \(perSource: 1 handshakes \+ 1 waiting\)/ })
  const honest = await within(openClient(p.port, keys), 10_000, 'the honest handshake while 127.0.1.2 holds its slot')
  t.equal(p.server.handshakes.active, 1, 'the stalled peer still holds its slot: the honest client did not wait for it')
  honest.stream.destroy()
  queued.socket.destroy()
  await within(stalled.closed, 10_000, 'the stalled peer dropped at its deadline')
})

t.test('issue 8.5, 17.1, MaxStartups: at rate 100 from start 1, a source that holds a connection is dropped unread; a source that holds none is still served', async t => {
  const p = await server(t, { maxStartups: { start: 1, rate: 100, full: 10 } })
  const stalled = await attack('half-hello', p.port, keys, undefined, HOSTILE)
  await waitFor(() => p.server.handshakes.waiting === 1, 'one unauthenticated connection held')
  const dropped = await helloFrom(p.port, HOSTILE)
  t.equal(dropped.received, 0, 'no ServerHello')
  t.match(p.errors.get(`${HOSTILE}:${dropped.localPort}`), { code: 'ERR_NETWORK', message: /random early drop from 1/ })
  const honest = await within(openClient(p.port, keys), 10_000, 'a handshake from 127.0.0.1, which holds nothing')
  t.equal(honest.stream.peerFingerprint !== null, true)
  honest.stream.destroy()
  stalled.peer.socket.destroy()
})

t.test('issue 17.1: a waiting socket that closes leaves the queue at once, not at its timer', async t => {
  const p = await server(t, { handshakeTimeoutMs: 600_000 }) // the timer cannot be what removes it
  const idle = await rawPeer(p.port, HOSTILE)
  await waitFor(() => p.server.handshakes.waiting === 1, 'the idle socket waiting')
  t.equal(p.server.handshakes.active, 0, 'a socket that sent nothing holds no handshake slot')
  idle.socket.destroy()
  await waitFor(() => p.server.handshakes.waiting === 0, 'the closed socket out of the queue (600 s before its timer)')
  await waitFor(() => p.errors.has(`${HOSTILE}:${idle.localPort}`), 'its report')
  t.match(p.errors.get(`${HOSTILE}:${idle.localPort}`), { code: 'ERR_NETWORK', message: /closed the connection during the handshake/ }, 'reported as the handshake would (SPEC 2.3)')
})

t.test('issue 17.1, sshd PerSourcePenalties: a connection that times out without its first message penalizes its /24; another source is served', async t => {
  const p = await server(t, { handshakeTimeoutMs: 500, perSource: { penalty: { seconds: 600, min: 1, max: 600 } } })
  const idle = await rawPeer(p.port, HOSTILE)
  await within(idle.closed, 10_000, 'the idle socket closed at its timeout')
  await waitFor(() => p.errors.has(`${HOSTILE}:${idle.localPort}`), 'its timeout reported')
  t.match(p.errors.get(`${HOSTILE}:${idle.localPort}`), { code: 'ERR_TIMEOUT', message: /sent no whole first message within 0\.5 s \(its source is penalized\)/ })
  const refused = await helloFrom(p.port, NEIGHBOUR)
  t.equal(refused.received, 0, 'a whole authorized ClientHello from the same /24: closed unread, no RSA work')
  t.match(p.errors.get(`${NEIGHBOUR}:${refused.localPort}`), { code: 'ERR_NETWORK', message: /127\.0\.1\.0\/24 is refused for \d+ s more: its connections timed out/ })
  const honest = await within(openClient(p.port, keys), 10_000, 'a handshake from 127.0.0.1')
  t.equal(honest.stream.peerFingerprint !== null, true, 'another source is not penalized')
  honest.stream.destroy()
})

t.test('issue 17.1: sockets that send nothing, from two sources filling the server, do not deny a source that holds none', async t => {
  const p = await server(t, { maxWaiting: 16, maxStartups: { start: 16, rate: 30, full: 16 }, handshakeTimeoutMs: 60_000 })
  const idle: Array<Awaited<ReturnType<typeof rawPeer>>> = []
  for (const from of [HOSTILE, '127.0.2.2']) for (let i = 0; i < 8; i++) idle.push(await rawPeer(p.port, from))
  await waitFor(() => p.server.handshakes.waiting === 16, 'the server full of idle sockets')
  const more = await helloFrom(p.port, HOSTILE)
  t.match(p.errors.get(`${HOSTILE}:${more.localPort}`), { code: 'ERR_NETWORK', message: /the server is busy/ }, 'a source that holds some gets no more')
  const honest = await within(openClient(p.port, keys), 10_000, 'a handshake from 127.0.0.1 while the server is full')
  t.equal(honest.stream.peerFingerprint !== null, true, 'served')
  await waitFor(() => idle.filter(i => i.socket.destroyed || i.socket.readableEnded).length === 1, 'one idle socket closed to make room')
  t.equal([...p.errors.values()].filter(e => /holds the most waiting connections/.test(e.message)).length, 1, 'one eviction, reported')
  honest.stream.destroy()
  for (const i of idle) i.socket.destroy()
})

t.test('issue 8.5: repeated failures from one source are one report, then one report of counts by code', async t => {
  const p = await server(t, { failureSummaryMs: 60_000 })
  const kinds = ['stranger', 'stranger', 'stranger', 'huge-length', 'huge-length'] as const
  const attacks = await Promise.all(kinds.map(k => attack(k, p.port, keys, undefined, HOSTILE)))
  await within(Promise.all(attacks.map(a => a.peer.closed)), 10_000, 'the hostile connections closed')
  await waitFor(() => p.errors.size === 5, 'a handshakeError per connection, for API users')
  t.equal(p.reports.length, 1, 'five failures, one report so far')
  t.match(p.reports[0], { kind: 'first', source: '127.0.1.0/24', address: new RegExp(`^127\\.0\\.1\\.2:\\d+$`) })
  const closed = new Promise<void>(resolve => p.server.close(() => resolve()))
  await within(closed, 10_000, 'the server closed')
  t.equal(p.reports.length, 2, 'closing reports what was counted')
  const first = p.reports[0]!.kind === 'first' ? p.reports[0]!.error.code! : ''
  const expected: Record<string, number> = { ERR_AUTH: 3, ERR_FRAME_TOO_LARGE: 2 }
  expected[first]!--
  t.match(p.reports[1], { kind: 'repeated', source: '127.0.1.0/24', total: 4, counts: expected })
})

t.test('issue 8.3: established connections are capped per client key, then in total, with ERR_NETWORK naming the cap and the address', async t => {
  const perKey = await server(t, { maxConnectionsPerKey: 1 })
  const a = await openClient(perKey.port, keys)
  await waitFor(() => perKey.server.established === 1, 'the first session established')
  const b = await openClient(perKey.port, keys) // the handshake completes on the client, then the server closes
  const bClosed = new Promise<void>(resolve => { b.stream.on('error', () => {}); b.stream.once('close', () => resolve()) })
  b.stream.resume()
  await within(bClosed, 10_000, 'the second session of the key closed by the server')
  await waitFor(() => perKey.errors.has(`127.0.0.1:${b.localPort}`), 'its refusal reported')
  t.match(perKey.errors.get(`127.0.0.1:${b.localPort}`), { code: 'ERR_NETWORK', message: new RegExp(`maximum of 1 connections \\(maxConnectionsPerKey\\); the session from 127\\.0\\.0\\.1:${b.localPort}`) })
  t.equal(perKey.secured.length, 1, 'no secureConnection for it: nothing was read from it')
  a.stream.destroy()
  await waitFor(() => perKey.server.established === 0, 'the place freed when the first closed')
  const c = await openClient(perKey.port, keys)
  await waitFor(() => perKey.secured.length === 2, 'the key gets a session again')
  c.stream.destroy()

  const total = await server(t, { maxConnections: 1 })
  const d = await openClient(total.port, keys)
  await waitFor(() => total.server.established === 1, 'one session established')
  const refused = await helloFrom(total.port, HOSTILE)
  t.equal(refused.received, 0, 'the server is full: closed unread, no RSA work')
  t.match(total.errors.get(`${HOSTILE}:${refused.localPort}`), { code: 'ERR_NETWORK', message: /maximum of 1 established connections \(maxConnections\); the connection from 127\.0\.1\.2:/ })
  d.stream.destroy()
})
