/**
 * Stream helpers shared by the stream, property and e2e tests: collect a stream, re-chunk a
 * buffer, hash, deterministic pseudo-random bytes, and `settle`, which records everything a
 * stream did ('data', 'end', 'error') so a test can assert exactly what was released.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { Readable, pipeline, type Duplex, type Writable } from 'node:stream'
import type t from 'tap'
import { DEFAULT_RECORD_SIZE, recordFrameLimit, type CipherName } from '../../src/constants.js'
import { FrameDecoder, FrameEncoder } from '../../src/framing/frame.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import { EncryptStage } from '../../src/record/encrypt.js'

/** The type of a subtest's `t`. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** SHA-256 of the concatenation, as hex (compare big payloads by hash, not byte by byte). */
export function sha256(...parts: Buffer[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** Every byte a readable emits, concatenated; rejects with its error. */
export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.once('end', () => resolve(Buffer.concat(chunks)))
    stream.once('error', reject)
  })
}

/**
 * Cut `buf` into chunks of the given sizes, cycling through `sizes` (a number means all chunks
 * have that size). The last chunk holds what is left. An empty buffer yields one empty chunk.
 */
export function rechunk(buf: Buffer, sizes: number | readonly number[]): Buffer[] {
  const list = typeof sizes === 'number' ? [sizes] : sizes
  if (list.length === 0 || list.some(s => !Number.isInteger(s) || s < 1)) throw new RangeError('chunk sizes must be positive integers')
  if (buf.length === 0) return [buf]
  const out: Buffer[] = []
  for (let off = 0, i = 0; off < buf.length; i++) {
    const size = list[i % list.length]!
    out.push(buf.subarray(off, off + size))
    off += size
  }
  return out
}

/** Cut at the given offsets (any order, duplicates give empty chunks, out-of-range offsets are clamped). */
export function cutAt(buf: Buffer, offsets: readonly number[]): Buffer[] {
  const points = offsets.map(o => Math.max(0, Math.min(buf.length, o))).sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  return out
}

/** mulberry32: a tiny seeded PRNG, so "random" chunkings are reproducible. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` chunk sizes in [1, max], from a seed. */
export function randomSizes(seed: number, count: number, max: number): number[] {
  const next = prng(seed)
  return Array.from({ length: count }, () => 1 + Math.floor(next() * max))
}

/** Deterministic pseudo-random bytes (an AES-128-CTR keystream keyed by the seed): payloads whose every byte matters. */
export function patterned(length: number, seed = 0): Buffer {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed >>> 0, 0)
  key.writeUInt32BE(Math.floor(seed / 2 ** 32) >>> 0, 4)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length))
}

/** What a stream did before it stopped. */
export interface Outcome {
  /** Every 'data' chunk, concatenated. */
  data: Buffer
  /** How many 'data' events there were. */
  events: number
  /** The error it failed with, or null. */
  error: (Error & { code?: string }) | null
  /** True if it emitted 'end' (a clean, authenticated end). */
  ended: boolean
}

/**
 * Consume `readable` until it ends or fails, recording everything it emitted. Rejects only if it
 * does neither within `timeoutMs` (a hang is a failure). The timer keeps the event loop alive.
 */
export function settle(readable: Readable, timeoutMs = 10_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const outcome: Outcome = { data: Buffer.alloc(0), events: 0, error: null, ended: false }
    const finish = (): void => {
      clearTimeout(timer)
      outcome.data = Buffer.concat(chunks)
      resolve(outcome)
    }
    const timer = setTimeout(() => reject(new Error(`stream neither ended nor failed within ${timeoutMs} ms`)), timeoutMs)
    readable.on('data', (c: Buffer) => { chunks.push(c); outcome.events++ })
    readable.once('end', () => { outcome.ended = true; finish() })
    readable.once('error', (err: Error) => { outcome.error = err; finish() })
    readable.once('close', () => setImmediate(finish)) // destroyed without an error
  })
}

/**
 * Feed `chunks` through `stages` (a pipeline) and settle the last stage. `end: false` leaves the
 * input open after the last chunk (to test timeouts).
 */
export function runThrough(chunks: readonly Buffer[], stages: Duplex[], opts: { end?: boolean, timeoutMs?: number } = {}): Promise<Outcome> {
  const source = opts.end === false ? openSource(chunks) : Readable.from(chunks, { objectMode: false })
  const last = stages[stages.length - 1]!
  const settled = settle(last, opts.timeoutMs)
  const streams = [source, ...stages] as unknown as [Readable, Writable]
  pipeline(...streams, () => {})
  return settled
}

function openSource(chunks: readonly Buffer[]): Readable {
  const r = new Readable({ read() {} })
  for (const c of chunks) r.push(c)
  return r
}

/** One direction's fixed test key material for the record stages (a fresh copy each call: stages wipe their keys). */
export interface TestRecordKeys { cipher: CipherName, secret: Buffer, direction: number, keyUpdateInterval?: number }

function copyKeys(k: TestRecordKeys): TestRecordKeys {
  return { ...k, secret: Buffer.from(k.secret) }
}

/** Plaintext chunks -> EncryptStage -> FrameEncoder -> the wire bytes (data records, then the close record). */
export async function sealToWire(chunks: readonly Buffer[], keys: TestRecordKeys, recordSize?: number): Promise<Buffer> {
  const enc = new EncryptStage({ keys: copyKeys(keys), ...(recordSize ? { recordSize } : {}) })
  const framer = new FrameEncoder()
  const out = collect(framer)
  pipeline(Readable.from(chunks, { objectMode: false }), enc, framer, () => {})
  return out
}

/** Wire chunks -> FrameDecoder -> DecryptStage, recording what was released. */
export function openWire(chunks: readonly Buffer[], keys: TestRecordKeys, recordSize = DEFAULT_RECORD_SIZE): Promise<Outcome> {
  return runThrough(chunks, [new FrameDecoder({ limit: recordFrameLimit(recordSize) }), new DecryptStage({ keys: copyKeys(keys) })])
}

/** Split a wire stream into its frames' bodies, synchronously (the input must be well formed). */
export function splitFrames(wire: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let off = 0; off < wire.length;) {
    let len = 0
    let shift = 0
    let b: number
    do { b = wire[off++]!; len += (b & 0x7f) * 2 ** shift; shift += 7 } while (b & 0x80)
    out.push(wire.subarray(off, off + len))
    off += len
  }
  return out
}
