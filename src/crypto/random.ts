/** The one source of randomness. Tests may inject a deterministic one through documented test-only options. */
import { randomBytes, randomFillSync, randomInt } from 'node:crypto'

export type RandomSource = (length: number) => Buffer

// Records draw a 12-byte r each (SPEC 5.2): filling a pool in one call costs far less than one call per record.
const POOL_SIZE = 4096
const NONCE_POOL_MAX = 16
const pool = Buffer.allocUnsafeSlow(POOL_SIZE)
let used = POOL_SIZE

/** Fresh random bytes from the OS CSPRNG (OpenSSL). Small draws come from a pool refilled in bulk; each byte is handed out once. */
export const secureRandom: RandomSource = length => {
  if (length > NONCE_POOL_MAX) return randomBytes(length) // secrets (k_c, k_s) never sit in the pool
  if (used + length > POOL_SIZE) {
    randomFillSync(pool)
    used = 0
  }
  const out = Buffer.allocUnsafe(length)
  pool.copy(out, 0, used, used + length)
  used += length
  return out
}

/** A uniform integer in [0, n) from the OS CSPRNG (node:crypto's randomInt: no modulo bias). */
export function randomBelow(n: number): number {
  return randomInt(n)
}
