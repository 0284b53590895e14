/**
 * A pass-through stage that counts the plaintext of a transfer for the delivery receipt (SPEC 8)
 * and the progress display, and hashes it with SHA-256 only when asked (`--sha256`): the
 * receipt itself rests on the record tags (SPEC 8.2), not on a second pass over the data.
 * Chunks pass unchanged; backpressure is the stream machinery's.
 *
 * @example await pipeline(source, meter, secureStream); encodeReceipt(meter.bytes, secureStream.tagDigest('sent'))
 */
import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

export class Meter extends Transform {
  bytes = 0
  readonly #hash: Hash | null
  readonly #onBytes: ((total: number) => void) | undefined

  constructor(onBytes?: (total: number) => void, opts: { sha256?: boolean } = {}) {
    super({ highWaterMark: 256 * 1024 })
    this.#onBytes = onBytes
    this.#hash = opts.sha256 ? createHash('sha256') : null
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length
    this.#hash?.update(chunk)
    this.#onBytes?.(this.bytes)
    cb(null, chunk)
  }

  /** `sha256sum`'s line for what passed (`HEX  NAME`), or null when not hashing; call once, after the end. */
  sha256Line(name: string): string | null {
    return this.#hash ? `${this.#hash.digest('hex')}  ${name}` : null
  }
}
