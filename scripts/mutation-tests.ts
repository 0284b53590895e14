/**
 * The fast test subset one mutant is judged by (`npm run mutate`, stryker.config.mjs).
 * Runs compiled test files one at a time with plain `node` (no tap runner: two Stryker workers
 * share one sandbox, and tap's .tap/ state is not safe to share) and stops at the first failure,
 * so a killed mutant costs one or two files. Exit 0 means the mutant survived.
 *
 * Usage: node build/scripts/mutation-tests.js FOLDER (a key of SUBSETS)
 */
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

/**
 * Per folder, the files that exercise it, cheapest and most likely to fail first. The CLI
 * tests (e2e/) run the compiled CLI of the same sandbox, and the mutant's id reaches it through
 * the environment, so folders only the CLI reaches (transfer, server, keys) are judged by them.
 */
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
  crypto: [
    'crypto/hmac', 'crypto/hkdf', 'auth/protocol-vectors', 'crypto/ccm', 'crypto/rsa-oaep', 'crypto/x25519',
    'crypto/forge-interop', 'auth/low-order-client', 'unit/handshake/checks', 'auth/handshake', 'streams/records',
  ],
  keys: [
    'unit/keys', 'unit/openssh', 'crypto/forge-interop', 'auth/review-authorize', 'e2e/cli-keys', 'e2e/cli-formats',
    'e2e/cli-home-lists', 'e2e/cli-home',
  ],
  server: [
    'unit/server/budget', 'unit/server/caps', 'unit/server/replay', 'unit/server/summary', 'unit/server/admission',
    'e2e/server-admission', 'e2e/server-faults', 'e2e/server-load',
  ],
  transfer: [
    'unit/transfer/messages', 'e2e/transfer-full-disk', 'e2e/transfer-tree', 'e2e/cli-atomic', 'e2e/transfer-review',
    'e2e/transfer-hostile', 'e2e/cli-receipt', 'e2e/transfer-many', 'e2e/transfer-resume',
  ],
}

// The slowest file of a subset (e2e/transfer-resume) takes about two minutes on a busy machine.
const PER_FILE_TIMEOUT_MS = 300_000

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

// Run only as a script: scripts/mutate.ts imports SUBSETS for its list of folders.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv[2])
