/**
 * Progress on stderr (a cli-progress bar) and the one-line transfer summary (issue 3).
 * With a known size the bar shows percentage and ETA; otherwise bytes and rate only.
 */
import type { Outcome } from '../index.js'
import type { EventFields } from './events.js'

// cli-progress is loaded only when a display is wanted: scripts and pipes never pay for it.

export interface Progress {
  update(bytes: number): void
  /** Once the size is known (a transfer's plan): the total, and a label such as `recv 12 files`. */
  plan(total: number, label: string): void
  stop(): void
}

const NONE: Progress = { update() {}, plan() {}, stop() {} }

/** A progress display, or a no-op when `enabled` is false. */
export async function createProgress(enabled: boolean, label: string, total?: number): Promise<Progress> {
  if (!enabled) return NONE
  const { default: cliProgress } = await import('cli-progress')
  let shown = label
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    noTTYOutput: true, // --progress on a pipe or file prints a line every notTTYSchedule ms
    notTTYSchedule: 1000,
    fps: 10,
    hideCursor: process.stderr.isTTY === true,
    clearOnComplete: true, // the summary line takes its place; on a pipe this avoids a blank line
    format: (options, params) => formatLine(shown, params.total > 0, params.value, params.total, params.startTime, cliProgress.Format.BarFormat(params.progress, options)),
  }, cliProgress.Presets.shades_classic)
  bar.start(total !== undefined && total > 0 ? total : 0, 0)
  let stopped = false
  return {
    update: bytes => { if (!stopped) bar.update(bytes) },
    plan: (n, text) => { if (!stopped) { shown = text; bar.setTotal(n) } },
    stop: () => { if (!stopped) { stopped = true; bar.stop() } },
  }
}

function formatLine(label: string, known: boolean, value: number, total: number, startTime: number, bar: string): string {
  const elapsed = Math.max((Date.now() - startTime) / 1000, 0.001)
  const rate = value / elapsed
  const head = `${label} ${formatBytes(value)}`
  if (!known) return `${head} | ${formatRate(rate)}`
  const pct = Math.min(100, Math.floor((value / total) * 100))
  const eta = rate > 0 ? Math.ceil((total - value) / rate) : NaN
  return `${label} ${bar} ${String(pct).padStart(3)}% | ${formatBytes(value)} / ${formatBytes(total)} | ${formatRate(rate)} | ETA ${Number.isFinite(eta) ? `${eta}s` : '-'}`
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`
}

/** MB/s in decimal megabytes, the unit `dd` and most benchmarks print. */
export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`
}

/** The line printed after a transfer: what (`3 files, `), bytes, seconds, MB/s, peer fingerprint, then `extra`. */
export function summaryLine(verb: string, bytes: number, startedAt: number, peer: string, extra = '', what = ''): string {
  const seconds = Math.max((performance.now() - startedAt) / 1000, 0.001)
  return `${verb} ${what}${bytes} bytes (${formatBytes(bytes)}) in ${seconds.toFixed(2)} s, ${formatRate(bytes / seconds)}, peer ${peer}${extra}`
}

/** The `summary` event's fields (events.ts) for the same transfer as `summaryLine`. */
export function summaryFields(r: { files: number, bytes: number, resumedBytes: number, outcome: Outcome }, entries: number, startedAt: number, fingerprint: string, where?: string): EventFields['summary'] {
  const seconds = Math.max((performance.now() - startedAt) / 1000, 0.001)
  return { entries, files: r.files, bytes: r.bytes, resumedBytes: r.resumedBytes, seconds: Number(seconds.toFixed(3)), bytesPerSecond: Math.round(r.bytes / seconds), fingerprint, outcome: r.outcome, ...(where === undefined ? {} : { where }) }
}
