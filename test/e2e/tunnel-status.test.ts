/**
 * SPEC 15.2, the tunnel's status message: what `takeTunnelStatus` accepts and refuses, and what
 * `joinTunnel` does with a hostile server (the library's own server, sending bytes of its
 * choosing in place of the status): every malformed status is ERR_PROTOCOL and nothing of the
 * server's direction reaches the output; a failed status is ERR_NETWORK carrying the reason.
 */
import t from 'tap'
import { PassThrough, Writable } from 'node:stream'
import { ByteQueue, encodeTunnelStatus, joinTunnel, MAX_TUNNEL_REASON, SecurePipeError, takeTunnelStatus } from '../../src/index.js'
import { securePair } from '../helpers/net.js'

const queue = (...chunks: Buffer[]): ByteQueue => {
  const q = new ByteQueue()
  for (const c of chunks) q.push(c)
  return q
}

const status = (version: number, code: number, reason: Buffer): Buffer => {
  const head = Buffer.from([0x53, 0x50, 0x54, 0x4e, version, code, 0, 0])
  head.writeUInt16BE(reason.length, 6)
  return Buffer.concat([head, reason])
}

const MALFORMED: Array<[string, Buffer]> = [
  ['another magic (not a tunnel: a Ready of SPEC 8.3)', Buffer.from('SPRY\x01\x00\x00\x00')],
  ['a magic that differs in its first byte, before 8 bytes arrived', Buffer.from('H')],
  ['another version', status(2, 0, Buffer.alloc(0))],
  ['a status other than 0 or 1', status(1, 2, Buffer.alloc(0))],
  ['status 0 with a reason', status(1, 0, Buffer.from('x'))],
  ['a reason over 1024 bytes', status(1, 1, Buffer.alloc(MAX_TUNNEL_REASON + 1, 0x61))],
  ['a reason that is not UTF-8', status(1, 1, Buffer.from([0xc3, 0x28]))],
]

t.test('SPEC 15.2: takeTunnelStatus', async t => {
  t.same(takeTunnelStatus(queue(encodeTunnelStatus({ ok: true }))), { ok: true })
  const failed = encodeTunnelStatus({ ok: false, reason: 'connecting to 127.0.0.1:5432 failed: connection refused' })
  t.same(takeTunnelStatus(queue(failed)), { ok: false, reason: 'connecting to 127.0.0.1:5432 failed: connection refused' })
  // Split at every byte: null until whole, then the status, and the bytes after it stay queued.
  for (let cut = 0; cut < failed.length; cut++) {
    const q = queue(failed.subarray(0, cut))
    t.equal(takeTunnelStatus(q), null, `incomplete at ${cut} bytes`)
    q.push(Buffer.concat([failed.subarray(cut), Buffer.from('after')]))
    t.same(takeTunnelStatus(q), { ok: false, reason: 'connecting to 127.0.0.1:5432 failed: connection refused' })
    t.equal(q.drain().toString(), 'after')
  }
  const long = encodeTunnelStatus({ ok: false, reason: 'é'.repeat(MAX_TUNNEL_REASON) })
  t.equal(long.length, 8 + MAX_TUNNEL_REASON, 'a long reason is cut to 1024 bytes on a character boundary')
  t.same(takeTunnelStatus(queue(long)), { ok: false, reason: 'é'.repeat(MAX_TUNNEL_REASON / 2) })
  for (const [what, bytes] of MALFORMED) {
    t.throws(() => takeTunnelStatus(queue(bytes)), { code: 'ERR_PROTOCOL' }, what)
  }
})

/** joinTunnel against a server that sends `bytes` (then data, then its close) in place of a status. */
async function againstServer(bytes: Buffer): Promise<{ err: unknown, output: Buffer }> {
  const pair = await securePair()
  try {
    pair.server.end(Buffer.concat([bytes, Buffer.from('target data')]))
    pair.server.resume()
    const got: Buffer[] = []
    const output = new Writable({ write(c: Buffer, _e, cb) { got.push(c); cb() } })
    const input = new PassThrough()
    input.end()
    const err = await joinTunnel(pair.client, input, output).then(() => null, (e: unknown) => e)
    return { err, output: Buffer.concat(got) }
  } finally {
    await pair.cleanup()
  }
}

t.test('SPEC 15.2: a client releases nothing of a server whose status is malformed', async t => {
  for (const [what, bytes] of MALFORMED) {
    const { err, output } = await againstServer(bytes)
    t.ok(err instanceof SecurePipeError && err.code === 'ERR_PROTOCOL', `${what}: ERR_PROTOCOL (${String(err)})`)
    t.equal(output.length, 0, `${what}: nothing released`)
  }
  const ended = await againstServer(Buffer.from('SPTN\x01'))
  t.ok(ended.err instanceof SecurePipeError, 'a status cut by the end of the server\'s direction is an error')
  t.equal(ended.output.length, 0)
})

t.test('SPEC 15.2: a failed status is ERR_NETWORK with the reason; an ok one releases exactly the rest', async t => {
  const failed = await againstServer(encodeTunnelStatus({ ok: false, reason: 'connecting to 127.0.0.1:1 failed: connection refused' }))
  t.ok(failed.err instanceof SecurePipeError && failed.err.code === 'ERR_NETWORK')
  t.match((failed.err as Error).message, /could not open its target: connecting to 127\.0\.0\.1:1 failed: connection refused/)
  t.equal(failed.output.length, 0)
  const ok = await againstServer(encodeTunnelStatus({ ok: true }))
  t.equal(ok.err, null)
  t.equal(ok.output.toString(), 'target data')
})
