/**
 * `npm run fuzz` (issue 5): the fuzz targets of targets.ts for a bounded number of runs from a
 * recorded seed. A failure prints the seed and fast-check's path, which replay it exactly:
 *
 *   npm run fuzz -- [--runs 2000] [--seed N] [--target server,client,records] [--path P]
 */
import { parseArgs } from 'node:util'
import { randomInt } from 'node:crypto'
import { testKeys } from '../helpers/keys.js'
import { TARGETS, fuzzTarget, type TargetName } from './targets.js'

// Not a tap test: `tap build/test/fuzz` (or stress) would run this too. Say so and stop.
if (process.env.TAP_CHILD_ID !== undefined) {
  console.log('1..0 # not a test file; run it with `npm run fuzz`')
  process.exit(0)
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    target: { type: 'string' },
    path: { type: 'string' },
  },
})

const runs = Number(values.runs)
const seed = values.seed !== undefined ? Number(values.seed) : randomInt(2 ** 31)
const targets = (values.target?.split(',') ?? TARGETS) as TargetName[]
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || targets.some(t => !TARGETS.includes(t))) {
  console.error(`usage: run.js [--runs N] [--seed N] [--target ${TARGETS.join(',')}] [--path P]`)
  process.exit(2)
}

console.log(`secure-pipe fuzz: seed ${seed}, ${runs} runs per target (${targets.join(', ')}), node ${process.version}`)
const keys = await testKeys()
let failed = false
for (const target of targets) {
  const r = await fuzzTarget(target, keys, { runs, seed, ...(values.path ? { path: values.path } : {}) })
  console.log(`${target}: ${r.failed ? 'FAILED' : 'ok'} after ${r.numRuns} runs in ${r.seconds.toFixed(1)} s; outcomes:`)
  for (const [outcome, n] of [...r.stats].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${outcome}`)
  if (!r.failed) continue
  failed = true
  console.log(`  error: ${r.error}`)
  console.log(`  counterexample: ${r.counterexample}`)
  console.log(`  replay: npm run fuzz -- --target ${target} --seed ${r.seed} --path ${r.path} --runs ${runs}`)
}
process.exit(failed ? 1 : 0)
