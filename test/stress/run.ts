/**
 * `npm run stress` (issue 5): the server under load, slow and stuck peers, garbage, faults and
 * a long stream, against the real CLI on 127.0.0.1. Bounded: every scenario has a deadline and
 * the whole run stops after 600 s. Prints each scenario's figures and exits 1 on any failure.
 *
 *   npm run stress -- [--only load,slow,garbage,faults,flood,idle,hellos,long] [--clients 200] [--long-gib 4]
 */
import { parseArgs } from 'node:util'
import { emergencyTeardown, runScenario, sharedSetup, type Outcome, type Scenario } from './harness.js'
import { loadScenario } from './load.js'
import { slowScenario } from './slow.js'
import { garbageScenario } from './garbage.js'
import { faultsScenario } from './faults.js'
import { longScenario } from './long.js'
import { floodScenario } from './flood.js'
import { sourcesScenario } from './sources.js'

// Not a tap test: `tap build/test/fuzz` (or stress) would run this too. Say so and stop.
if (process.env.TAP_CHILD_ID !== undefined) {
  console.log('1..0 # not a test file; run it with `npm run stress`')
  process.exit(0)
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    clients: { type: 'string', default: '200' },
    'long-gib': { type: 'string', default: '4' },
  },
})

const clients = Number(values.clients)
const longGiB = Number(values['long-gib'])
if (!(clients >= 1 && clients <= 1000) || !(longGiB > 0 && longGiB <= 16)) {
  console.error('usage: run.js [--only NAMES] [--clients 1..1000] [--long-gib 0..16]')
  process.exit(2)
}

/** Name, scenario, deadline. The whole run stops after TOTAL_MS. */
const SCENARIOS: Array<[string, Scenario, number]> = [
  ['load', loadScenario(clients), 60_000],
  ['slow', slowScenario(50, 50), 45_000],
  ['garbage', garbageScenario(20), 45_000],
  ['faults', faultsScenario(), 45_000],
  ['flood', floodScenario(), 120_000],
  ['idle', sourcesScenario('idle', 5, 256), 90_000],
  ['hellos', sourcesScenario('hello', 20, 16), 150_000],
  ['long', longScenario(longGiB), 150_000],
]

const only = values.only?.split(',')
const chosen = SCENARIOS.filter(([name]) => !only || only.includes(name))
const TOTAL_MS = 600_000
const hardStop = setTimeout(() => {
  console.error(`stress: the run exceeded ${TOTAL_MS / 1000} s; stopping`)
  emergencyTeardown()
  setTimeout(() => process.exit(1), 1000)
}, TOTAL_MS)
hardStop.unref()

console.log(`secure-pipe stress: ${chosen.map(([n]) => n).join(', ')} (node ${process.version}, load average ${(await import('node:os')).loadavg().map(l => l.toFixed(2)).join(' ')})`)
const setupStarted = performance.now()
const shared = sharedSetup()
console.log(`keys: 3 x RSA-2048 in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`)
const outcomes: Outcome[] = []
try {
  for (const [name, scenario, deadline] of chosen) outcomes.push(await runScenario(name, scenario, shared, deadline))
} finally {
  shared.cleanup()
}

console.log('\n## figures')
for (const o of outcomes) {
  console.log(`${o.name} (${o.seconds.toFixed(1)} s, ${o.checks - o.failed + (o.error ? 1 : 0)}/${o.checks + (o.error ? 1 : 0)} checks passed)`)
  for (const [name, value] of o.figures) console.log(`  ${name}: ${value}`)
}
const failed = outcomes.filter(o => o.failed > 0)
console.log(failed.length ? `\nFAILED: ${failed.map(o => o.name).join(', ')}` : '\nall scenarios passed')
process.exit(failed.length ? 1 : 0)
