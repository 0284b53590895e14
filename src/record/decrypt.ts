/**
 * Decrypt stage (SPEC 5, 6): records in (writable side in object mode: one chunk is one
 * record frame), plaintext bytes out. Nothing of a record is released before its tag verifies;
 * the first error is final; the readable side ends at the authenticated close record, and any
 * record after it is an error.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { DEFAULT_RECORD_SIZE, RECORD_TYPE } from '../constants.js'
import { IntegrityError, TruncatedError } from '../errors.js'
import { withProtector, type RecordProtector, type StageKeys } from './protector.js'

/** The receiving direction's keys of a `DecryptStage`, or a promise of them. */
export interface DecryptOptions {
  keys: StageKeys | Promise<StageKeys>
}

/**
 * Record frames in, verified plaintext out (SPEC 5, 6): fails with `ERR_INTEGRITY` on any bad
 * record and `ERR_TRUNCATED` when the input ends without the peer's close record.
 *
 * @example
 *   pipeline(socket, new FrameDecoder({ limit: 2 ** 21 }), new DecryptStage({ keys: sessionKeys.receive }), sink, done)
 */
export class DecryptStage extends Transform {
  #protector: RecordProtector | null = null
  readonly #ready: Promise<void>
  #closed = false

  constructor(opts: DecryptOptions) {
    // SPEC 7: one record waits on the input (Node counts objects there); the output is bounded in bytes.
    super({ writableObjectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 4 * DEFAULT_RECORD_SIZE })
    // SPEC 4.4: a stage destroyed before its keys arrived (a session refused at 'secure') wipes them on arrival.
    this.#ready = withProtector(opts.keys, 'receive', p => { this.#protector = p; if (this.destroyed) p.wipe() })
    this.#ready.catch(() => {})
  }

  /** SPEC 8.5: SHA-256 over the tags of the records verified so far (null before the keys arrive). */
  get tagDigest(): Buffer | null { return this.#protector?.tagDigest ?? null }

  /** True once the peer's authenticated close record arrived. */
  get peerClosed(): boolean { return this.#closed }

  override _transform(record: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#protector) return this.#open(record, callback)
    this.#ready.then(() => this.#open(record, callback), callback)
  }

  override _flush(callback: TransformCallback): void {
    // SPEC 6.2: an end of stream without a verified close record is truncation.
    if (!this.#closed) return callback(new TruncatedError('the connection ended before the sender\'s authenticated end of stream: the data is incomplete'))
    callback()
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#protector?.wipe()
    callback(err)
  }

  #open(record: Buffer, callback: TransformCallback): void {
    let payload
    try {
      payload = openInbound(this.#protector!, record, this.#closed)
    } catch (err) {
      return callback(err as Error)
    }
    if (payload === null) {
      this.#closed = true
      // SPEC 6.1 (v2): the verified close record is the end of the peer's direction; the readable
      // side ends here, not at the transport's end, which a peer may keep open. It ends once the
      // input that carried the close is processed (setImmediate runs after every callback of the
      // current I/O event), so a record sent after it in the same write still fails the stream.
      setImmediate(() => { if (!this.destroyed) this.push(null) })
      return callback()
    }
    callback(null, payload.length ? payload : undefined)
  }
}

/**
 * One inbound record (SPEC 5.4, 6.1), for the decrypt stage and `SecureStream`'s own record
 * path: its verified payload, or null for the close record. Throws ERR_INTEGRITY for a bad
 * record, a close record with data, and any record after the close (`closed`).
 */
export function openInbound(protector: RecordProtector, record: Buffer, closed: boolean): Buffer | null {
  // SPEC 6.1: nothing may follow the close record.
  if (closed) throw new IntegrityError('data arrived after the authenticated end of stream')
  const opened = protector.open(record)
  if (opened.type !== RECORD_TYPE.close) return opened.payload
  if (opened.payload.length) throw new IntegrityError('a close record carried data')
  return null
}
