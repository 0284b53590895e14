/**
 * A pass-through stage that counts and hashes the plaintext of a transfer, for the delivery
 * receipt (SPEC 8) and the progress display. Chunks pass unchanged; backpressure is the
 * stream machinery's.
 *
 * @example await pipeline(source, meter, secureStream); encodeReceipt(meter.bytes, meter.digest())
 */
import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

export class Meter extends Transform {
  bytes = 0
  readonly #hash: Hash = createHash('sha256')
  readonly #onBytes: ((total: number) => void) | undefined

  constructor(onBytes?: (total: number) => void) {
    super({ highWaterMark: 256 * 1024 })
    this.#onBytes = onBytes
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length
    this.#hash.update(chunk)
    this.#onBytes?.(this.bytes)
    cb(null, chunk)
  }

  /** SHA-256 of everything that passed; call once, after the stream ended. */
  digest(): Buffer {
    return this.#hash.digest()
  }
}
