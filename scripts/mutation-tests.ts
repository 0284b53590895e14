/**
 * The fast test subset one mutant is judged by (`npm run mutate`, stryker.config.mjs).
 * Runs compiled test files one at a time with plain `node` (no tap runner: two Stryker workers
 * share one sandbox, and tap's .tap/ state is not safe to share) and stops at the first failure,
 * so a killed mutant costs one or two files. Exit 0 means the mutant survived.
 *
 * Usage: node build/scripts/mutation-tests.js handshake|record|framing
 */
import { spawnSync } from 'node:child_process'

/** Per folder, the files that exercise it, cheapest and most likely to fail first. */
export const SUBSETS: Record<string, readonly string[]> = {
  handshake: [
    'auth/protocol-vectors', 'unit/handshake/messages', 'unit/handshake/checks', 'auth/impersonation',
    'auth/handshake', 'auth/negotiation',
  ],
  record: [
    'unit/record/format', 'unit/record/protector', 'unit/record/stages', 'auth/protocol-vectors', 'streams/records',
    'streams/hostile', 'streams/backpressure',
  ],
  framing: ['streams/frame', 'streams/frame-limits', 'streams/hostile', 'auth/protocol-vectors'],
}

const PER_FILE_TIMEOUT_MS = 60_000

function main(scope: string | undefined): number {
  const files = scope ? SUBSETS[scope] : undefined
  if (!files) {
    console.error(`usage: mutation-tests ${Object.keys(SUBSETS).join('|')}`)
    return 2
  }
  for (const f of files) {
    const r = spawnSync(process.execPath, [`build/test/${f}.test.js`], { stdio: 'ignore', timeout: PER_FILE_TIMEOUT_MS })
    if (r.status !== 0) {
      console.log(`killed by test/${f}.test.ts (${r.signal ?? `exit ${r.status}`})`)
      return 1
    }
  }
  return 0
}

process.exitCode = main(process.argv[2])
