/**
 * Encrypt stage (SPEC 5): plaintext bytes in, sealed records out.
 * Readable side in object mode: one chunk is one record, as the parts [ciphertext, tail]
 * that FrameEncoder frames without joining. Its end emits the close record (SPEC 6.1).
 */
import { Transform, type TransformCallback } from 'node:stream'
import { DEFAULT_RECORD_SIZE, MAX_RECORD_SIZE, RECORD_TYPE } from '../constants.js'
import { withProtector, type RecordProtector, type StageKeys } from './protector.js'

/** The sending direction's keys and the record size of an `EncryptStage`. */
export interface EncryptOptions {
  /** The keys, or a promise of them (the stage waits: writes are held back until the handshake ends). */
  keys: StageKeys | Promise<StageKeys>
  /** SPEC 5.5: plaintext bytes per record, 1 to 1 MiB (default 64 KiB). */
  recordSize?: number
}

export function checkRecordSize(size: number | undefined): number {
  const s = size ?? DEFAULT_RECORD_SIZE
  if (!Number.isInteger(s) || s < 1 || s > MAX_RECORD_SIZE) throw new RangeError(`recordSize must be 1 to ${MAX_RECORD_SIZE} bytes`)
  return s
}

/**
 * Plaintext bytes in, one sealed record per chunk out (SPEC 5); ending it sends the close
 * record (SPEC 6.1). Feed its output to a `FrameEncoder`.
 *
 * @example
 *   pipeline(source, new EncryptStage({ keys: sessionKeys.send }), new FrameEncoder(), socket, done)
 */
export class EncryptStage extends Transform {
  #protector: RecordProtector | null = null
  readonly #ready: Promise<void>
  readonly #recordSize: number

  constructor(opts: EncryptOptions) {
    super({ readableObjectMode: true, readableHighWaterMark: 1 }) // SPEC 7: one sealed record waits, whatever its size
    this.#recordSize = checkRecordSize(opts.recordSize)
    // SPEC 4.4: a stage destroyed before its keys arrived (a session refused at 'secure') wipes them on arrival.
    this.#ready = withProtector(opts.keys, 'send', p => { this.#protector = p; if (this.destroyed) p.wipe() })
    this.#ready.catch(() => {}) // the rejection reaches the stream through _transform/_flush
  }

  /** SPEC 8.5: SHA-256 over the tags of the records sealed so far (null before the keys arrive). */
  get tagDigest(): Buffer | null { return this.#protector?.tagDigest ?? null }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#protector) return this.#seal(chunk, callback)
    this.#ready.then(() => this.#seal(chunk, callback), callback)
  }

  override _flush(callback: TransformCallback): void {
    const close = (): void => {
      this.push(this.#protector!.seal(RECORD_TYPE.close, Buffer.alloc(0)))
      callback()
    }
    if (this.#protector) return close()
    this.#ready.then(close, callback)
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#protector?.wipe()
    callback(err)
  }

  #seal(chunk: Buffer, callback: TransformCallback): void {
    // SPEC 5.5: split chunks larger than the record size; smaller writes go out at once.
    if (chunk.length) for (const record of this.#protector!.sealAll(RECORD_TYPE.data, chunk, this.#recordSize)) this.push(record)
    callback()
  }
}
