/**
 * `recv DIR`'s word on what cut transfers left in DIR (issue 17, SPEC 8.6): the resumable partial
 * files are listed at start (kept for `send --resume` by the key that sent them), and
 * `--clear-partials AGE` removes those (and notes of files that are gone) older than AGE.
 */
import { clearLeftovers, findLeftovers, UsageError, type Leftover } from '../index.js'
import { formatBytes } from './progress.js'
import type { Log } from './report.js'

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const LISTED = 10

/** `--clear-partials` AGE: a whole number with s, m, h or d (default d); 0 clears all. */
export function parseAge(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim())
  if (!m) throw new UsageError(`--clear-partials takes an age such as 7d, 12h, 30m or 0 (all), not ${JSON.stringify(text)}`)
  return Number(m[1]) * UNITS[m[2] || 'd']!
}

/** List DIR's partial files (first LISTED of them); with `clearAge`, remove those older first. */
export async function reportPartials(dir: string, clearAge: string | undefined, log: Log): Promise<void> {
  const age = clearAge === undefined ? undefined : parseAge(clearAge)
  const found = await findLeftovers(dir)
  if (age !== undefined) {
    const removed = await clearLeftovers(found, age)
    const gone = new Set(removed.map(l => l.path))
    found.partials = found.partials.filter(l => !gone.has(l.path))
    const partials = removed.filter(l => l.kind === 'partial')
    log.info(`secure-pipe: --clear-partials ${clearAge}: removed ${partials.length} partial file${partials.length === 1 ? '' : 's'} (${formatBytes(sum(partials))}) and ${removed.length - partials.length} note${removed.length - partials.length === 1 ? '' : 's'} of files that are gone from ${dir}`)
  }
  const more = found.complete ? '' : ` (stopped looking after ${found.partials.length} found)`
  if (found.partials.length === 0) return
  const now = Date.now()
  log.info(`secure-pipe: ${dir} holds ${found.partials.length} partial file${found.partials.length === 1 ? '' : 's'} of cut transfers (${formatBytes(sum(found.partials))})${more}; each is resumed by the same sender's send --resume, and removed by recv --clear-partials AGE:`)
  for (const l of found.partials.slice(0, LISTED)) log.info(`  ${JSON.stringify(l.path)} ${formatBytes(l.size)}, ${Math.floor((now - l.mtimeMs) / 3_600_000)} h old`)
  if (found.partials.length > LISTED) log.info(`  ... and ${found.partials.length - LISTED} more`)
}

function sum(list: readonly Leftover[]): number {
  return list.reduce((n, l) => n + l.size, 0)
}
