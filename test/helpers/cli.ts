/**
 * Helpers to run the real `secure-pipe` CLI in tests (issue 3): spawn `node bin/secure-pipe.js`,
 * collect its output, wait for `listening on`, make keys and temp dirs, hash files, and a
 * byte-flipping TCP proxy. Everything binds to 127.0.0.1 and every wait is bounded.
 * Paths are relative to this module, so it works from build/test/helpers/.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { writeKeyPair } from '../../src/index.js'

/** The package root: build/test/helpers -> ../../.. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const BIN = join(ROOT, 'bin', 'secure-pipe.js')

export interface CliResult { code: number | null, signal: NodeJS.Signals | null, stdout: Buffer, stderr: string }

export interface CliProcess {
  child: ChildProcess
  /** stderr so far. */
  stderr(): string
  /** Resolves when the process exits (killed with SIGKILL after `timeoutMs`). */
  done: Promise<CliResult>
}

export interface Teardown { teardown(fn: () => void | Promise<void>): void }

/**
 * How to start a node child of a test: `[command, args]`. Under `npm test`, tap's processinfo
 * hook puts `--import=@tapjs/processinfo` into the NODE_OPTIONS of every process spawned, and
 * each child then starts tap's module-loader thread: `secure-pipe --version` went from 0.25 to
 * 0.65 CPU-s with it (issue 18), and the suite starts the CLI over a thousand times. The hook
 * re-adds itself to any env a test passes, so the child goes through `env -u NODE_OPTIONS`,
 * which execs node (same pid, same signals) with the other NODE_OPTIONS kept.
 * SECURE_PIPE_TEST_CHILD_COVERAGE=1 keeps tap's hook in the children.
 */
export function nodeCommand(args: string[], env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  const options = env.NODE_OPTIONS ?? ''
  if (env.SECURE_PIPE_TEST_CHILD_COVERAGE === '1' || !options.includes('@tapjs/processinfo')) return [process.execPath, args]
  const kept = options.split(/\s+/).filter(o => o !== '' && !o.includes('@tapjs/processinfo'))
  return ['env', ['-u', 'NODE_OPTIONS', ...(kept.length ? [`NODE_OPTIONS=${kept.join(' ')}`] : []), process.execPath, ...args]]
}

/** Spawn the CLI; the process is killed at test teardown if still running. */
export function spawnCli(t: Teardown, args: string[], opts: { cwd?: string, timeoutMs?: number, stdin?: 'pipe' | 'ignore', env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const [command, argv] = nodeCommand([BIN, ...args])
  const child = spawn(command, argv, {
    cwd: opts.cwd ?? ROOT,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    // Never the user's own key home (issue 10): a path nothing creates unless a test does.
    env: { ...process.env, SECURE_PIPE_HOME: join(tmpdir(), `secure-pipe-test-home-${process.pid}`), ...opts.env },
  })
  const out: Buffer[] = []
  let err = ''
  child.stdout!.on('data', (c: Buffer) => out.push(c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const done = new Promise<CliResult>(resolve => {
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err })
    })
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await done
  })
  return { child, stderr: () => err, done }
}

/** Run the CLI to completion. */
export function runCli(t: Teardown, args: string[], opts: { cwd?: string, timeoutMs?: number } = {}): Promise<CliResult> {
  return spawnCli(t, args, opts).done
}

/** Wait for `listening on HOST:PORT` on stderr; returns the port. */
export async function waitForListening(p: CliProcess, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = /listening on \S+:(\d+)/.exec(p.stderr())
    if (m) return Number(m[1])
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`CLI exited before listening: ${p.stderr()}`)
    if (Date.now() > deadline) throw new Error(`no "listening on" within ${timeoutMs} ms: ${p.stderr()}`)
    await sleep(20)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Poll `check` until it returns true (bounded). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A temporary directory, removed at teardown. */
export function tempDir(t: Teardown, prefix = 'secure-pipe-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface TestKeys { dir: string, server: string, serverPK: string, client: string, clientPK: string, other: string, otherPK: string }

/** server, client and an unrelated `other` pair; 2048 bits to keep tests fast. */
export function makeKeys(dir: string): TestKeys {
  for (const name of ['server', 'client', 'other']) writeKeyPair({ dir, name, bits: 2048 })
  const p = (f: string): string => join(dir, f)
  return { dir, server: p('server.pem'), serverPK: p('serverPK.pem'), client: p('client.pem'), clientPK: p('clientPK.pem'), other: p('other.pem'), otherPK: p('otherPK.pem') }
}

/** Flags for the listening and the connecting side with explicit keys. */
export function listenArgs(k: TestKeys, port = 0): string[] {
  return ['--listen', `127.0.0.1:${port}`, '--key', k.server, '--authorized', k.clientPK]
}
export function connectArgs(k: TestKeys, port: number): string[] {
  return ['--connect', `127.0.0.1:${port}`, '--key', k.client, '--server-key', k.serverPK]
}

/** Write `size` random bytes to `path`; returns their SHA-256 (hex). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const ws = createWriteStream(path)
  for (let left = size; left > 0;) {
    const chunk = randomBytes(Math.min(left, 1024 * 1024))
    hash.update(chunk)
    left -= chunk.length
    if (!ws.write(chunk)) await once(ws, 'drain')
  }
  ws.end()
  await once(ws, 'close')
  return hash.digest('hex')
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

/**
 * A TCP proxy on 127.0.0.1 that forwards to `targetPort` and flips one bit of the
 * client-to-server byte at offset `flipAt` (counted over the whole connection).
 */
export async function tamperProxy(t: Teardown, targetPort: number, flipAt: number): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, client => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true })
    sockets.add(client).add(upstream)
    let seen = 0
    client.on('data', (chunk: Buffer) => {
      if (seen <= flipAt && flipAt < seen + chunk.length) {
        chunk = Buffer.from(chunk)
        chunk[flipAt - seen] ^= 0x01
      }
      seen += chunk.length
      upstream.write(chunk)
    })
    client.on('end', () => upstream.end())
    upstream.pipe(client)
    const kill = (): void => { client.destroy(); upstream.destroy() }
    client.on('error', kill).on('close', kill)
    upstream.on('error', kill).on('close', kill)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return (server.address() as { port: number }).port
}
