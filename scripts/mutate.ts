/**
 * `npm run mutate [FOLDER...] [--files a.ts,b.ts] [--report]`: mutation testing of each folder of
 * src/ in turn (stryker.config.mjs; the folders are those of SUBSETS), then one score line per
 * folder and every surviving mutant, marked `SPEC` when it sits on a line that cites SPEC (a MUST
 * check: a survivor there is a missing test). `--files` mutates only those files of the one folder
 * named (a sample), and its score line says so. Slow (hours for all folders on 2 cores); not part
 * of `npm test`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { SUBSETS } from './mutation-tests.js'

const SCOPES = Object.keys(SUBSETS)

interface Mutant { id: string, mutatorName: string, replacement?: string, status: string, location: { start: { line: number, column: number } } }
interface Report { files: Record<string, { source: string, mutants: Mutant[] }> }

const DETECTED = new Set(['Killed', 'Timeout'])
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

function run(scope: string, files: string[]): void {
  const started = Date.now()
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], { stdio: 'inherit', env: { ...process.env, MUTATE_SCOPE: scope, MUTATE_FILES: files.join(',') } })
  if (r.status !== 0) throw new Error(`stryker failed on src/${scope} (exit ${r.status})`)
  console.log(`src/${scope}: stryker took ${((Date.now() - started) / 60_000).toFixed(1)} min`)
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
  const mutated = Object.keys(report.files).sort()
  const whole = mutated.length === sourceFiles(scope).length
  const what = whole ? `src/${scope}` : `src/${scope} (sample: ${mutated.map(f => f.replace(`src/${scope}/`, '')).join(', ')})`
  return [`${what}: ${score}% (${detected} detected, ${undetected} survived)`, ...survivors]
}

/** The folder's TypeScript files, as Stryker's default glob sees them. */
function sourceFiles(scope: string): string[] {
  return (readdirSync(`src/${scope}`, { recursive: true }) as string[]).filter(f => f.endsWith('.ts'))
}

// `--report`: print the scores of the last runs without running again.
const args = process.argv.slice(2)
const reportOnly = args.includes('--report')
const filesAt = args.indexOf('--files')
const files = filesAt >= 0 ? (args[filesAt + 1] ?? '').split(',').filter(Boolean) : []
const named = args.filter((a, i) => a !== '--report' && (filesAt < 0 || (i !== filesAt && i !== filesAt + 1)))
const scopes = named.length ? named : SCOPES
if (files.length && scopes.length !== 1) throw new RangeError('--files samples one folder: name it, e.g. npm run mutate -- transfer --files src/transfer/resume.ts')
for (const s of scopes) {
  if (!SCOPES.includes(s)) throw new RangeError(`unknown folder ${s}: use ${SCOPES.join(', ')}`)
  for (const f of files) if (!f.startsWith(`src/${s}/`)) throw new RangeError(`--files: ${f} is not in src/${s}/`)
  if (!reportOnly) run(s, files)
}
for (const s of scopes) {
  if (existsSync(`reports/mutation/${s}.json`)) console.log(summarize(s).join('\n'))
  else console.log(`src/${s}: no report yet (npm run mutate -- ${s})`)
}
