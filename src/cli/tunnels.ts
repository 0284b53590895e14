/**
 * What `serve`, `forward` and `connect` share (issue 20): the tunnel flags, the one log line per
 * connection, and the drain on SIGINT/SIGTERM (stop accepting, let open tunnels finish for a
 * bounded time, then cut the rest), the long-running counterpart of signals.ts' `onInterrupt`.
 */
import type { Argv } from 'yargs'
import { UsageError, type TunnelReport } from '../index.js'
import type { Output } from './events.js'
import { formatBytes } from './progress.js'
import { errorReport, EXIT_OK, EXIT_SIGNAL, oneLine, reportInterrupt, type Log } from './report.js'
import { seconds, type TransferArgs } from './options.js'

export interface TunnelArgs extends TransferArgs {
  json?: boolean
  maxConnections?: number
  drainTimeout?: number
}

/** Issue 20: open tunnels get this long to finish after SIGINT/SIGTERM (`--drain-timeout`). */
export const DRAIN_TIMEOUT_MS = 30_000

export function tunnelOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('max-connections', { type: 'number', describe: 'most tunnelled connections open at once; more are closed at once (default 1024)' })
    .option('drain-timeout', { type: 'number', describe: `on SIGINT/SIGTERM: seconds open tunnels may take to finish before they are cut (default ${DRAIN_TIMEOUT_MS / 1000})` })
}

/** The flags of transferOptions that mean nothing for a tunnel. */
export function refuseTransferFlags(args: TransferArgs, command: string): void {
  for (const [given, flag] of [[args.progress, '--progress'], [args.sha256, '--sha256']] as const) {
    if (given !== undefined) throw new UsageError(`${flag} is for send and recv; ${command} moves a byte stream both ways and logs one line per connection`)
  }
}

/** `--max-connections`, checked. */
export function maxConnections(args: TunnelArgs): number | undefined {
  if (args.maxConnections === undefined) return undefined
  if (!Number.isInteger(args.maxConnections) || args.maxConnections < 1) throw new UsageError('--max-connections expects a positive whole number')
  return args.maxConnections
}

/** `tunnel PEER from ADDRESS to TARGET: N B up, M B down, S s, closed` (or the error). */
export function tunnelLine(r: TunnelReport, from: string, to: string): string {
  const how = r.error ? `${r.ended}: ${oneLine(r.error.message)}` : r.ended
  return `secure-pipe: tunnel ${r.peer ?? 'unknown'} from ${from} to ${to}: ${formatBytes(r.bytesUp)} up, ${formatBytes(r.bytesDown)} down, ${(r.durationMs / 1000).toFixed(2)} s, ${how}`
}

/** Report a tunnel's end: the `tunnel` event, or its line (informational when it closed cleanly, a warning otherwise). */
export function reportTunnel(out: Output, r: TunnelReport, from: string, to: string): void {
  out.emit('tunnel', {
    peer: r.peer, from, to, bytesUp: r.bytesUp, bytesDown: r.bytesDown, seconds: Math.round(r.durationMs) / 1000, ended: r.ended,
    ...(r.error ? { error: errorReport(r.error) } : {}),
  }, tunnelLine(r, from, to))
}

/** The open tunnels of a listener, so that a drain can wait for them or cut them. */
export class OpenTunnels {
  readonly #open = new Map<object, () => void>()
  #empty: (() => void) | null = null

  get size(): number { return this.#open.size }

  add(key: object, cut: () => void): void { this.#open.set(key, cut) }

  delete(key: object): void {
    this.#open.delete(key)
    if (this.#open.size === 0) this.#empty?.()
  }

  /** Resolves true when every tunnel has finished, false when `ms` passed first (the rest are cut). */
  async drain(ms: number): Promise<boolean> {
    if (this.#open.size === 0) return true
    const finished = await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), ms)
      this.#empty = () => { clearTimeout(timer); resolve(true) }
    })
    for (const cut of this.#open.values()) cut()
    return finished
  }
}

/**
 * SIGINT/SIGTERM: `stop()` stops accepting at once, open tunnels drain for `drainMs`, then the
 * process exits 0 if they all finished, else 130/143 after cutting them. A second signal cuts at once.
 */
export function drainOnSignal(stop: () => void, open: OpenTunnels, drainMs: number, log: Log): void {
  let draining = false
  const handler = (signal: keyof typeof EXIT_SIGNAL): void => {
    if (draining) {
      reportInterrupt(signal, `secure-pipe: ${signal} again: cutting ${open.size} open tunnel${open.size === 1 ? '' : 's'} (${signal})`)
      process.exit(EXIT_SIGNAL[signal])
    }
    draining = true
    stop()
    log.warn(`secure-pipe: ${signal}: no longer accepting; waiting up to ${drainMs / 1000} s for ${open.size} open tunnel${open.size === 1 ? '' : 's'} to finish`)
    void open.drain(drainMs).then(finished => {
      if (finished) {
        log.warn('secure-pipe: every tunnel finished; stopped')
        process.exit(EXIT_OK)
      }
      reportInterrupt(signal, `secure-pipe: the drain timeout passed; the remaining tunnels were cut (${signal})`)
      process.exit(EXIT_SIGNAL[signal])
    })
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

/** `--drain-timeout` in ms. */
export function drainMs(args: TunnelArgs): number {
  return args.drainTimeout === undefined ? DRAIN_TIMEOUT_MS : seconds(args.drainTimeout, '--drain-timeout')
}
