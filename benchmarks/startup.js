/**
 * Start-up: wall time of `secure-pipe --version` (bin/secure-pipe.js: Node's start, the
 * launcher's V8 flag, loading the CLI) against a bare `node -e 0` in the same run, interleaved,
 * median of N runs each (issue 18, decision 4: launcher tuning is measured here).
 */
import { join } from 'node:path'
import { ROOT } from './lib/tools.js'
import { run, shq } from './lib/proc.js'
import { summarize } from './lib/stats.js'

const RUNS = 15

export async function runStartup(ctx, log) {
  const kinds = [
    { id: 'version', label: '`secure-pipe --version` (bin/secure-pipe.js)', line: `${shq(process.execPath)} ${shq(join(ROOT, 'bin', 'secure-pipe.js'))} --version`, skipped: ctx.cliMissing },
    { id: 'node', label: '`node -e 0` (the floor: Node alone)', line: `${shq(process.execPath)} -e 0`, skipped: null },
  ]
  const ms = new Map(kinds.map((k) => [k.id, []]))
  for (let i = 0; i < RUNS; i++) {
    for (const k of i % 2 ? [...kinds].reverse() : kinds) {
      if (k.skipped) continue
      const r = await run(k.line, { timeoutMs: 20_000 })
      if (r.code !== 0) throw new Error(`${k.line} exited ${r.code}: ${r.stderr.slice(-200)}`)
      ms.get(k.id).push(r.ms)
    }
  }
  const rows = kinds.map((k) => ({ id: k.id, label: k.label, skipped: k.skipped ? `skipped: ${k.skipped}` : null, stats: summarize(ms.get(k.id)) }))
  for (const r of rows) if (!r.skipped) log(`startup ${r.id}: median ${r.stats.median.toFixed(0)} ms`)
  return rows
}
