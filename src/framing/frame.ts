/**
 * Framing (SPEC 2): every message is an unsigned LEB128 varint length, then that many bytes.
 * The decoder wraps `length-prefixed-stream`, whose limit is checked on the prefix before the
 * body is allocated; its errors are translated to ours, and truncation is detected at the end.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { createRequire } from 'node:module'
import { FrameTooLargeError, TruncatedError } from '../errors.js'
import { DEFAULT_RECORD_SIZE, MAX_RECORD_SIZE, recordFrameLimit } from '../constants.js'

const require = createRequire(import.meta.url)
const lps = require('length-prefixed-stream') as { decode(opts: { limit: number, allowEmpty?: boolean }): LpsDecoder }
const varint = require('varint') as { encode(n: number, buf: Buffer, offset: number): Buffer, encodingLength(n: number): number }

/** The parts of length-prefixed-stream@2.0.0's decoder we drive synchronously (pinned version). */
interface LpsDecoder {
  _limit: number
  _missing: number
  _ptr: number
  _message: Buffer | null
  _parseMessage(data: Buffer, offset: number): number
  _transform(chunk: Buffer, enc: BufferEncoding, cb: () => void): void
  destroy(err?: Error): void
}

/** Size limits of a `FrameDecoder` (SPEC 2.2, 7). */
export interface FrameDecoderOptions {
  /** Largest frame accepted after the first `smallFrames` frames (default: a 1 MiB record, SPEC 7). */
  limit?: number
  /** SPEC 7: the first `smallFrames` frames (the handshake: HANDSHAKE_FRAMES) get the tighter `smallLimit` (HANDSHAKE_FRAME_LIMIT). Default 0. */
  smallFrames?: number
  smallLimit?: number
}

/**
 * The frame parser both decoders share (the `FrameDecoder` stage and `SecureStream`'s own record
 * path): bytes in by `push`, each complete frame handed to `onFrame` synchronously, in order.
 * Errors: ERR_FRAME_TOO_LARGE from `push` (SPEC 2.2), then for every later push; `end()`
 * throws ERR_TRUNCATED when the input stops inside a frame (SPEC 2.3).
 * A frame that spans reads is copied into a buffer of its own; a consumer made `recycling` gives
 * such a frame back (`recycle`) when done with it, to hold the next one instead of a new allocation.
 */
export class FrameParser {
  readonly #lp: LpsDecoder
  readonly #limit: number
  #smallLeft: number
  #error: Error | null = null
  /** The last frame assembled from several reads, until it is given back. */
  #assembled: Buffer | null = null
  /** A frame buffer given back, for the next frame that spans reads, and the memory under it. */
  #spare: Buffer | null = null
  #spareMemory: ArrayBufferLike | null = null

  /** `recycling`: the consumer gives frames back with `recycle` (SecureStream's record path). */
  constructor(opts: FrameDecoderOptions, onFrame: (frame: Buffer) => void, recycling = false) {
    const limit = opts.limit ?? recordFrameLimit(MAX_RECORD_SIZE)
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit: a positive whole number of bytes')
    if (opts.smallFrames !== undefined && !(Number.isSafeInteger(opts.smallFrames) && opts.smallFrames >= 0)) throw new RangeError('smallFrames: a whole number of frames, 0 or more')
    if (opts.smallLimit !== undefined && !(Number.isSafeInteger(opts.smallLimit) && opts.smallLimit >= 1)) throw new RangeError('smallLimit: a positive whole number of bytes')
    this.#limit = limit
    this.#smallLeft = opts.smallFrames ?? 0
    this.#lp = lps.decode({ limit, allowEmpty: true })
    if (this.#smallLeft > 0) this.#lp._limit = Math.min(opts.smallLimit ?? limit, limit)
    // The decoder's own readable push receives each complete frame: hand it on.
    ;(this.#lp as unknown as { push(m: Buffer): boolean }).push = (message: Buffer) => {
      if (this.#smallLeft > 0 && --this.#smallLeft === 0) this.#lp._limit = this.#limit
      if (!this.#error) onFrame(message)
      return true
    }
    this.#lp.destroy = (err?: Error) => {
      // SPEC 2.2: the only error length-prefixed-stream raises is a prefix over the limit.
      this.#error ??= new FrameTooLargeError(this.#lp._limit, { cause: err })
    }
    if (recycling) this.#assembleInSpare()
  }

  #assembleInSpare(): void {
    const lp = this.#lp
    const parseMessage = lp._parseMessage
    lp._parseMessage = (data: Buffer, offset: number): number => {
      // Before the body of a frame that does not fit in this read: assemble it in the spare, if it fits.
      if (lp._message === null && lp._missing > data.length - offset && this.#spare && this.#spare.length >= lp._missing) {
        lp._message = this.#spare.subarray(0, lp._missing)
        this.#spare = null
      }
      const assembling = lp._message
      const next = parseMessage.call(lp, data, offset)
      if (assembling && lp._message === null) this.#assembled = assembling // complete, and handed to onFrame
      return next
    }
  }

  /** Give back a frame from `onFrame` that nothing refers to any more: its memory may hold a later frame. */
  recycle(frame: Buffer): void {
    if (frame !== this.#assembled) return // a view of a read, or an older frame: not ours to reuse
    this.#assembled = null
    // Only memory no other Buffer shares: the spare's own, or a body allocated whole for this
    // frame (Node's pool serves only allocations under half its size, from shared slabs).
    const memory = frame.buffer
    const own = memory === this.#spareMemory || (frame.byteOffset === 0 && memory.byteLength === frame.length && frame.length >= Buffer.poolSize >>> 1)
    if (!own || (this.#spare && this.#spare.length >= memory.byteLength)) return
    this.#spare = Buffer.from(memory)
    this.#spareMemory = memory
  }

  /** Parse `chunk`; throws the first framing error (and again on every later call). */
  push(chunk: Buffer): void {
    if (!this.#error) this.#lp._transform(chunk, 'binary', () => {})
    if (this.#error) throw this.#error
  }

  /** The input ended: SPEC 2.3, a frame cut off by the end of the stream is an error, never dropped. */
  end(): void {
    if (this.#lp._missing > 0 || this.#lp._ptr > 0) throw new TruncatedError('the connection ended in the middle of a frame: the data is incomplete')
  }
}

/**
 * Bytes in, one frame per chunk out (readable side in object mode: one chunk is one frame).
 * Errors: ERR_FRAME_TOO_LARGE (SPEC 2.2), ERR_TRUNCATED (SPEC 2.3).
 */
export class FrameDecoder extends Transform {
  readonly #parser: FrameParser

  constructor(opts: FrameDecoderOptions = {}) {
    // SPEC 7: the input is bounded in bytes, the output to one frame (Node counts objects there).
    super({ readableObjectMode: true, readableHighWaterMark: 1, writableHighWaterMark: 4 * DEFAULT_RECORD_SIZE })
    this.#parser = new FrameParser(opts, frame => this.push(frame))
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#parser.push(chunk)
    } catch (err) {
      return callback(err as Error)
    }
    callback()
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#parser.end()
    } catch (err) {
      return callback(err as Error)
    }
    callback()
  }
}

/** Encode one frame's header: the varint length (SPEC 2.1). */
export function frameHeader(length: number): Buffer {
  return varint.encode(length, Buffer.allocUnsafe(varint.encodingLength(length)), 0)
}

/**
 * Frames up to this size leave the encoder as one buffer (a copy of a few hundred bytes costs
 * less than a write call per part); larger ones leave as their parts, uncopied.
 */
const JOIN_LIMIT = 4096

/**
 * Frames in (object mode: one chunk is one frame body), bytes out: varint length then body.
 * A frame may also be written as an array of buffers (a record's parts). A small frame leaves
 * as one chunk; a large one as the header and then its parts, never copied: a transport that
 * is corked meanwhile (`SecureStream` corks its socket for each tick) sends them in one writev.
 */
export class FrameEncoder extends Transform {
  constructor() {
    super({ writableObjectMode: true, writableHighWaterMark: 1 }) // SPEC 7: one frame waits, whatever its size
  }

  override _transform(frame: Buffer | Buffer[], _enc: BufferEncoding, callback: TransformCallback): void {
    for (const b of encodeFrame(Array.isArray(frame) ? frame : [frame])) this.push(b)
    callback()
  }
}

/**
 * SPEC 2.1: one frame of the given parts as the buffers to write, in order: a small frame as one
 * joined buffer, a large one as its header and then its parts, uncopied. `FrameEncoder` and
 * `SecureStream`'s own record path both write frames through it.
 */
export function encodeFrame(parts: readonly Buffer[]): Buffer[] {
  let length = 0
  for (const p of parts) length += p.length
  if (length <= JOIN_LIMIT) return [joinFrame(length, parts)]
  return [frameHeader(length), ...parts]
}

/** One buffer holding the header (SPEC 2.1) and then the parts, whose lengths sum to `length`. */
function joinFrame(length: number, parts: readonly Buffer[]): Buffer {
  const headerLength = varint.encodingLength(length)
  const out = Buffer.allocUnsafe(headerLength + length)
  varint.encode(length, out, 0)
  let off = headerLength
  for (const p of parts) off += p.copy(out, off)
  return out
}
