/**
 * The server side of the stress scenarios and `server-*` e2e tests (issue 5): the real CLI,
 * `secure-pipe recv --keep-open --output-dir DIR`, in its own process; its one-line log parsed
 * by peer address; its memory read from /proc/PID/status (VmRSS, VmHWM).
 */
import { once } from 'node:events'
import { readFileSync, readdirSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { spawnCli, waitForListening, listenArgs, type CliProcess, type CliResult, type Teardown, type TestKeys } from '../helpers/cli.js'

/** One failure line: `secure-pipe: handshake|transfer from 127.0.0.X:PORT failed: ... (CODE)`. */
export interface LogFailure { phase: 'handshake' | 'transfer', host: string, port: number, code: string, line: string }

/** One summary line: `secure-pipe: N more handshakes from SOURCE failed in S s: ERR_A xN, ERR_B xM` (issue 8.5). */
export interface LogSummary { source: string, total: number, counts: Record<string, number>, line: string }

const FAILURE = /^secure-pipe: (handshake|transfer) from (127\.0\.\d+\.\d+):(\d+) failed: .* \((ERR_[A-Z_]+)\)$/
const SUMMARY = /^secure-pipe: (\d+) more handshakes? from (\S+) failed in \d+ s: (.*)$/

function parseSummary(line: string): LogSummary[] {
  const m = SUMMARY.exec(line)
  if (!m) return []
  const counts = Object.fromEntries(m[3]!.split(', ').map(c => { const [code, n] = c.split(' x'); return [code!, Number(n)] }))
  return [{ source: m[2]!, total: Number(m[1]), counts, line }]
}

export interface KeepOpenServer {
  cli: CliProcess
  port: number
  pid: number
  dir: string
  /** Every stderr line so far. */
  lines(): string[]
  /** The failure lines, in order. */
  failures(): LogFailure[]
  /** Failure lines naming the peer at 127.0.0.X:port. */
  failuresOf(port: number): LogFailure[]
  /** The per-source summary lines of repeated handshake failures. */
  summaries(): LogSummary[]
  /** Summary lines of completed transfers. */
  received(): number
  /** Files in DIR, and the temporary `.partial` ones among them. */
  files(): string[]
  partials(): string[]
  alive(): boolean
  /** SIGTERM, then the exit (143 expected). */
  stop(): Promise<CliResult>
}

/** Spawn `recv --keep-open` on 127.0.0.1 port 0 and wait for its `listening on` line. */
export async function startKeepOpen(t: Teardown, keys: TestKeys, dir: string, extra: string[] = [], timeoutMs = 600_000): Promise<KeepOpenServer> {
  const cli = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', '--output-dir', dir, ...extra], { timeoutMs })
  const port = await waitForListening(cli)
  const lines = (): string[] => cli.stderr().split('\n').filter(l => l !== '')
  const failures = (): LogFailure[] => lines().flatMap(line => {
    const m = FAILURE.exec(line)
    return m ? [{ phase: m[1] as LogFailure['phase'], host: m[2]!, port: Number(m[3]), code: m[4]!, line }] : []
  })
  return {
    cli, port, dir,
    pid: cli.child.pid!,
    lines,
    failures,
    failuresOf: p => failures().filter(f => f.port === p),
    summaries: () => lines().flatMap(parseSummary),
    received: () => lines().filter(l => l.startsWith('received ')).length,
    files: () => readdirSync(dir),
    partials: () => readdirSync(dir).filter(f => f.endsWith('.partial')),
    alive: () => cli.child.exitCode === null && cli.child.signalCode === null,
    async stop() {
      cli.child.kill('SIGTERM')
      return cli.done
    },
  }
}

/** Resident and peak memory of a process, in bytes, from /proc/PID/status; null once it is gone. */
export function memoryOf(pid: number): { rss: number, hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return null
  }
}

export interface RssSamples { samples: number[], min: number, max: number, hwm: number }

/**
 * Sample VmRSS every `everyMs` until `stop()`, from a worker thread so that a busy main thread
 * (the stress process also drives the clients) does not stretch the interval; `stop` also reads
 * VmHWM (the peak the kernel saw).
 */
export function sampleRss(pid: number, everyMs: number): { stop(): Promise<RssSamples> } {
  const worker = new Worker(`
    const { parentPort, workerData: { pid, everyMs } } = require('node:worker_threads')
    const { readFileSync } = require('node:fs')
    const samples = []
    const take = () => {
      try { samples.push(Number(/^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]) * 1024) } catch {}
    }
    take()
    const timer = setInterval(take, everyMs)
    parentPort.once('message', () => { clearInterval(timer); take(); parentPort.postMessage(samples) })
  `, { eval: true, workerData: { pid, everyMs } })
  return {
    async stop() {
      worker.postMessage('stop')
      const [samples] = await once(worker, 'message') as [number[]]
      await worker.terminate()
      const hwm = memoryOf(pid)?.hwm ?? NaN
      return { samples, min: Math.min(...samples), max: Math.max(...samples), hwm }
    },
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
