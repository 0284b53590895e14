/**
 * `npm run mutate [handshake] [record] [framing] [--report]`: mutation testing of each folder in turn
 * (stryker.config.mjs), then one score line per folder and every surviving mutant, marked
 * `SPEC` when it sits on a line that cites SPEC (a MUST check: a survivor there is a missing test).
 * Slow (tens of minutes on 2 cores); not part of `npm test`.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const SCOPES = ['handshake', 'record', 'framing']

interface Mutant { id: string, mutatorName: string, replacement?: string, status: string, location: { start: { line: number, column: number } } }
interface Report { files: Record<string, { source: string, mutants: Mutant[] }> }

const DETECTED = new Set(['Killed', 'Timeout'])
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

function run(scope: string): void {
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], { stdio: 'inherit', env: { ...process.env, MUTATE_SCOPE: scope } })
  if (r.status !== 0) throw new Error(`stryker failed on src/${scope} (exit ${r.status})`)
}

/** The score line and the survivors of one folder's JSON report. */
function summarize(scope: string): string[] {
  const report = JSON.parse(readFileSync(`reports/mutation/${scope}.json`, 'utf8')) as Report
  let detected = 0
  let undetected = 0
  const survivors: string[] = []
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const lines = source.split('\n')
    for (const m of mutants) {
      if (DETECTED.has(m.status)) detected++
      if (!UNDETECTED.has(m.status)) continue
      undetected++
      const { line, column } = m.location.start
      const spec = /SPEC \d/.test(lines[line - 1] ?? '') || /\/\/ SPEC \d/.test(lines[line - 2] ?? '') ? 'SPEC ' : '     '
      survivors.push(`  ${spec}${file}:${line}:${column} ${m.mutatorName} -> ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 70)}`)
    }
  }
  const score = (100 * detected / Math.max(1, detected + undetected)).toFixed(1)
  return [`src/${scope}: ${score}% (${detected} detected, ${undetected} survived)`, ...survivors]
}

// `--report`: print the scores of the last runs without running again.
const args = process.argv.slice(2)
const reportOnly = args.includes('--report')
const named = args.filter(a => a !== '--report')
const scopes = named.length ? named : SCOPES
for (const s of scopes) {
  if (!SCOPES.includes(s)) throw new RangeError(`unknown folder ${s}: use ${SCOPES.join(', ')}`)
  if (!reportOnly) run(s)
}
for (const s of scopes) console.log(summarize(s).join('\n'))
