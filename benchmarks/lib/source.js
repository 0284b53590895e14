/**
 * The one data source of the bulk benchmarks: a fixed pseudo-random block (AES-128-CTR of zeros
 * under a fixed key, so that it is the same in every process and incompressible) repeated.
 */
import { createCipheriv, createHash } from 'node:crypto'

export const BLOCK_SIZE = 1 << 20

export function sourceBlock() {
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0))
  return c.update(Buffer.alloc(BLOCK_SIZE))
}

/** SHA-256 of the first `n` bytes of the source stream (for checking what a receiver wrote). */
export function sourceSha256(n) {
  const block = sourceBlock()
  const h = createHash('sha256')
  let left = n
  while (left > 0) {
    const k = Math.min(left, block.length)
    h.update(k === block.length ? block : block.subarray(0, k))
    left -= k
  }
  return h.digest('hex')
}
