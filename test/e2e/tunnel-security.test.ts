/**
 * issue 20, security: `serve` connects to its target only for an authenticated session. An
 * unauthorized key, a client that sends data before or instead of its ClientFinished, a forged
 * ClientFinished from an authorized public key, and a session over the per-key cap never cause
 * a connection to the target (the target counts its accepts). A refused target ends that session
 * with ERR_NETWORK naming the target, and the listener stays up.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { ClientHandshake, FrameDecoder, loadPrivateKey, loadPublicKey } from '../../src/index.js'
import { frameHeader } from '../../src/framing/frame.js'
import { makeKeys, runCli, spawnCli, tempDir, waitFor, type TestKeys } from '../helpers/cli.js'
import { connectTo, countingTarget, freePort, startForward, startServe } from '../helpers/tunnel.js'

const framed = (body: Buffer): Buffer => Buffer.concat([frameHeader(body.length), body])

/** A raw client on the serve port: an honest ClientHello from the authorized key, then `next(serverHello)`. */
async function rawClient(keys: TestKeys, port: number, next: (machine: ClientHandshake, serverHello: Buffer) => Buffer, early: Buffer = Buffer.alloc(0)): Promise<Socket> {
  const machine = new ClientHandshake({ privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })
  const socket = createConnection({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(Buffer.concat([framed(machine.clientHello), early]))
  const decoder = new FrameDecoder({ limit: 1024 * 1024 })
  decoder.on('error', () => {})
  socket.pipe(decoder)
  const [serverHello] = await once(decoder, 'data') as [Buffer]
  socket.write(next(machine, serverHello))
  return socket
}

t.test('nothing reaches the target before the handshake completes, nor for a key that is not authorized', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t)
  const serve = await startServe(t, keys, target.port, ['--handshake-timeout', '2'])

  const stranger = await runCli(t, ['connect', `127.0.0.1:${serve.port}`, '--key', keys.other, '--server-key', keys.serverPK])
  t.equal(stranger.code, 3, 'an unauthorized key: ERR_AUTH, exit 3')
  t.match(stranger.stderr, /does not accept this machine's key/)

  // An authorized ClientHello with data piled after it (a record frame, before any Finished).
  const early = await rawClient(keys, serve.port, () => framed(Buffer.from('GET /early HTTP/1.0\r\n\r\n')), framed(randomBytes(64)))
  // A forged ClientFinished: everything honest but the proof of the authorized key's possession, then data.
  const forged = await rawClient(keys, serve.port, (machine, sh) => {
    const finished = machine.onServerHello(sh)
    finished[finished.length - 1]! ^= 1
    return Buffer.concat([framed(finished), framed(Buffer.from('DATA before a valid Finished'))])
  })
  // A client that stops after the ServerHello: the handshake times out.
  const stalled = await rawClient(keys, serve.port, () => Buffer.alloc(0))
  // The first failure of a source is logged alone, the next ones as counts per interval (10 s).
  await waitFor(() => /3 more handshakes from 127\.0\.0\.0\/24 failed/.test(serve.proc.stderr()), 'the three raw clients\' failures logged', 30_000)
  t.match(serve.proc.stderr(), /handshake from 127\.0\.0\.1:\d+ failed: the client presented a key that is not authorized/)
  t.match(serve.proc.stderr(), /3 more handshakes from 127\.0\.0\.0\/24 failed in \d+ s: (?=.*ERR_VERSION x1)(?=.*ERR_AUTH x1)(?=.*ERR_TIMEOUT x1)/, 'early data, a forged Finished, a stall')
  for (const s of [early, forged, stalled]) s.destroy()
  t.equal(target.accepted, 0, 'no connection to the target for any of the four')

  // The counter works: an authorized session opens exactly one target connection, after its handshake.
  const honest = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  honest.child.stdin!.end('hello target')
  t.equal((await honest.done).code, 0, honest.stderr())
  t.equal(target.accepted, 1)
  t.equal(target.received[0]!.toString(), 'hello target', 'exactly the client\'s bytes, none of the hostile ones')
  t.equal(serve.proc.child.exitCode, null, 'serve still up')
})

t.test('--max-per-key: a session over the cap is closed after its handshake without a target connection', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, s => s.pipe(s)) // echo, held open while the client is
  const serve = await startServe(t, keys, target.port, ['--max-per-key', '1'])
  const first = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  first.child.stdin!.write('one')
  await waitFor(() => first.child.stdout!.readableLength > 0 || target.received[0]?.toString() === 'one', 'the first tunnel to reach the target')
  const second = await runCli(t, connectTo(keys, serve.port))
  t.not(second.code, 0, 'the second session of the same key fails')
  t.match(second.stderr, /the server closed the session before its tunnel status \(SPEC 15\.2\): it may be at its limit of tunnels for this key/, 'and says what that usually means')
  t.equal(target.accepted, 1, 'and caused no target connection')
  await waitFor(() => /maxConnectionsPerKey|per client key|per key/i.test(serve.proc.stderr()), 'the refusal logged')
  first.child.stdin!.end()
  t.equal((await first.done).code, 0, first.stderr())
})

t.test('a refused target ends that session with ERR_NETWORK naming the target; the listener stays up', async t => {
  const keys = makeKeys(tempDir(t))
  const closedPort = await freePort()
  const serve = await startServe(t, keys, closedPort)
  for (let i = 0; i < 2; i++) {
    const r = await runCli(t, connectTo(keys, serve.port))
    t.equal(r.code, 5, 'exit 5 (network)')
    t.match(r.stderr, new RegExp(`^secure-pipe: connecting to 127\\.0\\.0\\.1:${serve.port}: the server could not open its target: connecting to 127\\.0\\.0\\.1:${closedPort} failed: connection refused .*\\(ERR_NETWORK\\)\\n$`))
  }
  t.equal(serve.proc.child.exitCode, null, 'serve still up')
  t.match(serve.proc.stderr(), new RegExp(`to 127\\.0\\.0\\.1:${closedPort}: 0 B up, 0 B down, .* target failed: connecting to 127\\.0\\.0\\.1:${closedPort} failed`))

  // Through forward, the local connection is closed and forward logs which target failed.
  const forward = await startForward(t, keys, serve.port)
  const local = createConnection({ host: '127.0.0.1', port: forward.port })
  local.on('error', () => {})
  local.end('hello')
  await new Promise(resolve => local.once('close', resolve))
  await waitFor(() => /tunnel from 127\.0\.0\.1:\d+ failed: /.test(forward.proc.stderr()), 'forward to log the failure')
  t.match(forward.proc.stderr(), new RegExp(`could not open its target: connecting to 127\\.0\\.0\\.1:${closedPort} failed: connection refused`))
  t.equal(forward.proc.child.exitCode, null, 'forward still up')
})
