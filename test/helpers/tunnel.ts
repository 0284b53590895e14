/**
 * Tunnel tests (issue 20): the real `serve` and `forward` on 127.0.0.1, a TCP target that counts
 * what reaches it, and whether a third-party program is installed (a test whose program is
 * missing is skipped with the reason, except in CI, where .ci/run installs it and the test must run).
 */
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { spawnCli, waitForListening, type CliProcess, type Teardown, type TestKeys } from './cli.js'

/** The tap `skip` option for a test that needs `programs`: false when all are on PATH (or in CI), else the reason. */
export function skipUnless(...programs: string[]): string | false {
  if (process.env.CI === 'true') return false
  const missing = programs.filter(p => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0)
  return missing.length === 0 ? false : `${missing.join(', ')} not installed (.ci/run installs it in CI)`
}

export interface Listener { proc: CliProcess, port: number }

/** `secure-pipe serve` on 127.0.0.1, any free port, to 127.0.0.1:targetPort. */
export async function startServe(t: Teardown, keys: TestKeys, targetPort: number, extra: string[] = []): Promise<Listener> {
  const proc = spawnCli(t, ['serve', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${targetPort}`, '--key', keys.server, '--authorized', keys.clientPK, ...extra], { timeoutMs: 110_000 })
  return { proc, port: await waitForListening(proc, 60_000) }
}

/** `secure-pipe forward` from 127.0.0.1, any free port, to the serve on servePort. */
export async function startForward(t: Teardown, keys: TestKeys, servePort: number, extra: string[] = []): Promise<Listener> {
  const proc = spawnCli(t, ['forward', '--local', '127.0.0.1:0', '--connect', `127.0.0.1:${servePort}`, '--key', keys.client, '--server-key', keys.serverPK, ...extra], { timeoutMs: 110_000 })
  return { proc, port: await waitForListening(proc, 60_000) }
}

/** The `connect` flags for the authorized client. */
export function connectTo(keys: TestKeys, servePort: number): string[] {
  return ['connect', `127.0.0.1:${servePort}`, '--key', keys.client, '--server-key', keys.serverPK]
}

/** A TCP target on 127.0.0.1 that counts connections and keeps what each sent; `answer` handles each. */
export interface CountingTarget { port: number, accepted: number, received: Buffer[] }

export async function countingTarget(t: Teardown, answer: (socket: Socket) => void = s => s.end()): Promise<CountingTarget> {
  const sockets = new Set<Socket>()
  const target: CountingTarget = { port: 0, accepted: 0, received: [] }
  const server = createServer({ allowHalfOpen: true }, socket => {
    target.accepted++
    sockets.add(socket)
    const index = target.received.push(Buffer.alloc(0)) - 1
    socket.on('data', (c: Buffer) => { target.received[index] = Buffer.concat([target.received[index]!, c]) })
    socket.on('error', () => {})
    answer(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  target.port = (server.address() as AddressInfo).port
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return target
}

/** A port nothing listens on now, for a third-party server that must be told its port. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}
