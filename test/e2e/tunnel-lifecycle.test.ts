/**
 * issue 20, a tunnel's life: SIGTERM stops accepting and lets open tunnels finish (exit 0), or
 * cuts them at --drain-timeout (exit 143); --idle-timeout closes a silent tunnel with a log line;
 * a reader that stops reading stalls the target's writes (backpressure end to end, bounded
 * buffering), and everything arrives once it reads again.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Writable, PassThrough } from 'node:stream'
import type { Socket } from 'node:net'
import { connect, createServer, joinTunnel, loadPrivateKey, loadPublicKey, serveTunnel, type SecureServer } from '../../src/index.js'
import { makeKeys, runCli, spawnCli, tempDir, waitFor } from '../helpers/cli.js'
import { connectTo, countingTarget, startServe } from '../helpers/tunnel.js'

const echo = (s: Socket): void => { s.pipe(s) }

t.test('SIGTERM: no new tunnels, the open one finishes, exit 0', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, echo)
  const serve = await startServe(t, keys, target.port)
  const open = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  open.child.stdin!.write('before ')
  await waitFor(() => target.received[0]?.toString() === 'before ', 'the tunnel to reach the target')
  serve.proc.child.kill('SIGTERM')
  await waitFor(() => /SIGTERM: no longer accepting; waiting up to 30 s for 1 open tunnel/.test(serve.proc.stderr()), 'the drain to start')
  const late = await runCli(t, connectTo(keys, serve.port))
  t.equal(late.code, 5, 'a new connection is refused while draining')
  t.match(late.stderr, /connection refused/)
  open.child.stdin!.end('after')
  const r = await open.done
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), 'before after', 'the open tunnel kept working, both ways, to its end')
  const end = await serve.proc.done
  t.equal(end.code, 0, 'every tunnel finished: exit 0')
  t.match(end.stderr, /every tunnel finished; stopped/)
  t.equal(target.accepted, 1)
})

t.test('SIGTERM with --drain-timeout: a tunnel still open is cut, exit 143', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, echo)
  const serve = await startServe(t, keys, target.port, ['--drain-timeout', '1'])
  const open = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  open.child.stdin!.write('x')
  await waitFor(() => target.received[0]?.length === 1, 'the tunnel to reach the target')
  serve.proc.child.kill('SIGTERM')
  const end = await serve.proc.done
  t.equal(end.code, 143)
  t.match(end.stderr, /the drain timeout passed; the remaining tunnels were cut \(SIGTERM\)/)
  const r = await open.done
  t.not(r.code, 0, 'the cut tunnel fails at the client')
})

t.test('--idle-timeout closes a tunnel that moves nothing, with its log line', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, echo)
  const serve = await startServe(t, keys, target.port, ['--idle-timeout', '1'])
  const open = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  open.child.stdin!.write('x')
  const r = await open.done
  t.not(r.code, 0, 'the client sees the tunnel end without its close')
  t.match(r.stderr, /the tunnel was cut without its close record \(the server's idle timeout/)
  t.match(serve.proc.stderr(), /: tunnel SHA256:\S+ from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+: 1 B up, 1 B down, .* ERR_TIMEOUT: no data moved for 1 s/)
  t.equal(serve.proc.child.exitCode, null, 'serve still up')
})

t.test('a reader that stops stalls the target (bounded buffering), then gets every byte', async t => {
  const dir = tempDir(t)
  const keys = makeKeys(dir)
  const TOTAL = 256 * 1024 * 1024
  const chunk = randomBytes(1024 * 1024)
  let written = 0
  const target = await countingTarget(t, socket => {
    const pump = (): void => {
      while (written < TOTAL) {
        written += chunk.length
        if (!socket.write(chunk)) return void socket.once('drain', pump)
      }
      socket.end()
    }
    pump()
  })
  const server: SecureServer = createServer({ privateKey: loadPrivateKey(keys.server), authorizedKeys: [loadPublicKey(keys.clientPK)] }, s => void serveTunnel(s, { host: '127.0.0.1', port: target.port }))
  server.listen(0, '127.0.0.1')
  await new Promise(resolve => server.once('listening', resolve))
  t.teardown(() => { server.close() })
  const stream = await connect({ port: (server.address() as { port: number }).port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })

  let received = 0
  let release: (() => void) | null = null
  const stalled = new Writable({
    highWaterMark: 64 * 1024,
    write(c: Buffer, _e, cb) { received += c.length; if (release === null) release = cb; else cb() },
  })
  const input = new PassThrough()
  const done = joinTunnel(stream, input, stalled)
  input.end()
  // The target writes until flow control stops it; the amount is bounded by socket buffers and
  // the library's per-connection bound (SPEC 7.2), far below the 256 MiB it would send.
  let last = -1
  for (let i = 0; i < 100 && written !== last; i++) {
    last = written
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  t.equal(written, last, 'the target\'s writes stopped')
  t.ok(written < 64 * 1024 * 1024, `the target could write ${(written / 1048576).toFixed(1)} MiB ahead of a reader that stopped (bound 64 MiB of 256)`)
  t.ok(received < 2 * 1024 * 1024, 'the stalled reader got at most its first chunks')
  const go = release as (() => void) | null
  release = () => {}
  go?.()
  const report = await done
  t.equal(report.ended, 'closed')
  t.equal(received, TOTAL, 'every byte arrived once the reader read again')
  t.equal(report.bytesDown, TOTAL)
})
