/**
 * The sending side of a transfer (SPEC 8): manifest, wait for Ready, plan (accepting only resume
 * offers whose prefix digest matches our own file), the content of every entry, the close record,
 * then the receipt, checked against the records we sealed.
 *
 * @example const report = await sendEntries(await connect(opts), await listSources(['photos/']))
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import { SecurePipeError, ReceiptError, TimeoutError, IoError, toNetworkError, EXIT_CODES, type ErrorCode } from '../errors.js'
import { ioError } from '../errno.js'
import type { SecureStream } from '../session.js'
import { ByteQueue } from './bytes.js'
import { encodeManifest } from './entry.js'
import { checkReceipt, DEFAULT_RECEIPT_TIMEOUT_MS, noReceiptError, receiptCode, takeReceipt, type Receipt } from './receipt.js'
import { encodePlan, hashPrefix, takeReady, ZERO_DIGEST, type Offer, type Step } from './resume.js'
import { showName } from './safe-path.js'
import type { SourceEntry } from './source.js'

/** Read files this many bytes at a time; smaller pieces are gathered up to it before they go to the stream. */
export const SEND_CHUNK = 256 * 1024
/**
 * Files up to this size are read whole with synchronous calls (open, fstat, read, close: a few
 * microseconds each). Through libuv's thread pool each call costs a thread hand-off both ways,
 * more than the file itself (issue 18: many files).
 */
const SMALL_FILE = 64 * 1024

/** Options of `sendEntries`. */
export interface SendOptions {
  /** Ask the receiver to resume partial files (SPEC 8.6). */
  resume?: boolean
  /** How long to wait for the ready message, and for the receipt after our close record (SPEC 8.5.2). */
  receiptTimeoutMs?: number
  /** Called once the plan is known: content bytes to send now, and bytes the receiver already holds. */
  onPlan?: (plan: { bytes: number, resumedBytes: number }) => void
  /** Content bytes handed to the stream so far. */
  onProgress?: (bytes: number) => void
  /** With it, each file's SHA-256 is computed as it is sent and reported here (`--sha256`). */
  onSha256?: (name: string, hex: string) => void
}

/** What a completed transfer moved. */
export interface SendReport {
  entries: number
  files: number
  /** Content bytes sent in this run. */
  bytes: number
  /** Content bytes the receiver already had (accepted resume offers). */
  resumedBytes: number
  /** Whether the receiver made the entries durable or could only deliver them (stdout, FIFO, device). */
  outcome: Receipt['outcome']
}

/** The receiver reported a failure (SPEC 8.5): its error code, and how far the transfer got. */
export class TransferFailedError extends SecurePipeError {
  constructor(code: ErrorCode, message: string, readonly done: number, readonly entries: number) {
    super(code, message)
  }
}

/** Send `entries` over an established stream (SPEC 8). Resolves when the receipt confirms every entry; ends the stream's writable side. */
export async function sendEntries(stream: SecureStream, entries: readonly SourceEntry[], opts: SendOptions = {}): Promise<SendReport> {
  stream.allowHalfOpen = true // SPEC 8.5.1: a receiver that refuses ends first; this side still ends on its own
  const timeoutMs = opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS
  const replies = new Replies(stream, entries, opts.resume === true)
  try {
    const manifest = encodeManifest(entries, { resume: opts.resume === true })
    stream.write(manifest)
    const ready = await within(replies.ready, timeoutMs, 'no answer to the transfer manifest')
    if (!Array.isArray(ready)) throw failure(ready, entries, true)
    const prefixes = new Map<number, Hash>()
    const steps = await checkOffers(entries, ready, prefixes)
    const plan = encodePlan(steps)
    stream.write(plan)
    const starts = new Map(steps.map(s => [s.index, s.offset]))
    let resumedBytes = 0
    let bytes = 0
    entries.forEach((e, i) => { const start = starts.get(i) ?? 0; resumedBytes += start; if (e.type !== 'directory') bytes += e.size - start })
    opts.onPlan?.({ bytes, resumedBytes })
    const sent = { bytes: 0 }
    try {
      // Larger files are read into this one buffer, each chunk once the one before is sealed: a
      // fresh buffer per read cost page faults and garbage collection (issue 11).
      const readBuffer = Buffer.allocUnsafeSlow(SEND_CHUNK)
      await writeAll(stream, content(entries, starts, prefixes, opts, sent, readBuffer), readBuffer, replies.failed) // ends our direction: the close record (SPEC 6)
    } catch (err) {
      const early = await replies.failedNow()
      if (early) throw failure(early, entries, false)
      throw sendError(err)
    }
    const receipt = await within(replies.receipt, timeoutMs, 'no delivery receipt after the end of the data')
    if (receipt.error) throw failure(receipt, entries, false)
    // SPEC 8.5: our close record is sealed (writeAll saw 'finish'), so the digest covers every record we sent.
    checkReceipt(receipt, { bytes: manifest.length + plan.length + sent.bytes, digest: stream.tagDigest('sent')!, entries: entries.length })
    return { entries: entries.length, files: entries.filter(e => e.type === 'file').length, bytes: sent.bytes, resumedBytes, outcome: receipt.outcome }
  } catch (err) {
    stream.destroy()
    throw err instanceof TransferFailedError || err instanceof ReceiptError ? err : sendError(err)
  } finally {
    replies.stop()
  }
}

/** SPEC 8.6: accept an offer only if our own prefix has the same SHA-256; keep the hash for --sha256. */
async function checkOffers(entries: readonly SourceEntry[], offers: readonly Offer[], prefixes: Map<number, Hash>): Promise<Step[]> {
  const steps: Step[] = []
  for (const offer of offers) {
    const entry = entries[offer.index]!
    const hash = await hashListedPrefix(entry, offer.offset)
    if (offer.digest.equals(ZERO_DIGEST)) {
      // A complete file is there (SPEC 8.6): the receiver does not disclose its digest; we prove ours, and it compares.
      if (hash) prefixes.set(offer.index, hash)
      steps.push(hash ? { index: offer.index, offset: offer.offset, digest: hash.copy().digest() } : { index: offer.index, offset: 0 })
      continue
    }
    const same = hash !== null && timingSafeEqual(hash.copy().digest(), offer.digest)
    if (same) prefixes.set(offer.index, hash)
    steps.push({ index: offer.index, offset: same ? offer.offset : 0 })
  }
  return steps
}

async function hashListedPrefix(entry: SourceEntry, length: number): Promise<Hash | null> {
  if (entry.path === undefined) return null
  const fh = await openListed(entry)
  try {
    return await hashPrefix(fh, length)
  } finally {
    await fh.close()
  }
}

/** The content of every entry from its plan offset (SPEC 8.4), small pieces gathered into SEND_CHUNK buffers. */
async function* content(entries: readonly SourceEntry[], starts: Map<number, number>, prefixes: Map<number, Hash>, opts: SendOptions, sent: { bytes: number }, readBuffer: Buffer): AsyncGenerator<Buffer> {
  let held: Buffer[] = []
  let heldBytes = 0
  const flush = (): Buffer => {
    const out = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes)
    held = []
    heldBytes = 0
    return out
  }
  /**
   * `whole`: pass the chunk on as it is (a stream's chunks are already the size its source chose;
   * gathering them would copy every byte). A piece of readBuffer held back is copied: the next read refills it.
   */
  const emit = function* (chunk: Buffer, whole = false): Generator<Buffer> {
    sent.bytes += chunk.length
    opts.onProgress?.(sent.bytes)
    if (whole || chunk.length >= SEND_CHUNK) {
      if (heldBytes > 0) yield flush()
      yield chunk
      return
    }
    held.push(chunk.buffer === readBuffer.buffer ? Buffer.from(chunk) : chunk)
    heldBytes += chunk.length
    if (heldBytes >= SEND_CHUNK) yield flush()
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.type === 'file' && entry.size <= SMALL_FILE && (starts.get(i) ?? 0) === 0) {
      const whole = readSmall(entry)
      if (opts.onSha256) opts.onSha256(entry.name, createHash('sha256').update(whole).digest('hex'))
      if (whole.length > 0) yield* emit(whole)
    } else if (entry.type === 'symlink') yield* emit(entry.target!)
    else if (entry.type === 'stream') {
      const hash = opts.onSha256 ? createHash('sha256') : undefined
      for await (const chunk of entry.stream!) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
        hash?.update(b)
        yield* emit(b, true)
      }
      if (hash) opts.onSha256!('', hash.digest('hex'))
    } else if (entry.type === 'file') {
      const hash = opts.onSha256 ? prefixes.get(i) ?? createHash('sha256') : undefined
      for await (const chunk of readFile(entry, starts.get(i) ?? 0, readBuffer)) {
        hash?.update(chunk)
        yield* emit(chunk)
      }
      if (hash) opts.onSha256!(entry.name, hash.digest('hex'))
    }
  }
  if (heldBytes > 0) yield flush()
}

/**
 * Open a listed file and check that it is still the file that was listed (device and inode): a
 * file swapped for a link or another file after the listing is refused, never read (issue 9 review).
 */
async function openListed(entry: SourceEntry): Promise<FileHandle> {
  const fh = await open(entry.path!, 'r').catch(err => { throw ioError(err, `cannot read ${entry.path}`) })
  try {
    checkListed(entry, await fh.stat().catch(err => { throw ioError(err, `cannot read ${entry.path}`) }))
    return fh
  } catch (err) {
    await fh.close()
    throw err
  }
}

/** Still the file that was listed (device and inode), and no shorter than listed (SPEC 8.4). */
function checkListed(entry: SourceEntry, st: Stats): void {
  if (entry.ino !== undefined && (st.ino !== entry.ino || st.dev !== entry.dev || !st.isFile())) {
    throw new IoError(`${entry.path} was replaced after it was listed; the transfer stopped (send it again)`)
  }
  if (st.size < entry.size) throw new IoError(`${entry.path} shrank from ${entry.size} to ${st.size} bytes after it was listed; the transfer stopped (send it again)`)
}

/** A small file's manifest bytes, whole (SMALL_FILE): the same checks as `readFile`. */
function readSmall(entry: SourceEntry): Buffer {
  let fd: number
  try { fd = openSync(entry.path!, 'r') } catch (err) { throw ioError(err, `cannot read ${entry.path}`) }
  try {
    checkListed(entry, fstatSync(fd))
    const buf = Buffer.allocUnsafe(entry.size)
    for (let at = 0; at < entry.size;) {
      const n = readSync(fd, buf, at, entry.size - at, at)
      if (n === 0) throw new IoError(`${entry.path} ended after ${at} of its ${entry.size} bytes while it was being sent; the transfer stopped (send it again)`)
      at += n
    }
    return buf
  } catch (err) {
    throw ioError(err, `cannot read ${entry.path}`)
  } finally {
    closeSync(fd)
  }
}

/**
 * Exactly the manifest's bytes of a file from `start`; a file that changed since it was listed
 * ends the transfer (SPEC 8.4). With `into`, every read goes into that buffer: each chunk is
 * valid until the next one is asked for.
 */
async function* readFile(entry: SourceEntry, start: number, into?: Buffer): AsyncGenerator<Buffer> {
  const fh = await openListed(entry)
  try {
    for (let at = start; at < entry.size;) {
      const buf = into ?? Buffer.allocUnsafe(Math.min(SEND_CHUNK, entry.size - at))
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, entry.size - at), at).catch(err => { throw ioError(err, `cannot read ${entry.path}`) })
      if (bytesRead === 0) throw new IoError(`${entry.path} ended after ${at} of its ${entry.size} bytes while it was being sent; the transfer stopped (send it again)`)
      at += bytesRead
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead)
    }
  } finally {
    await fh.close()
  }
}

/** The receiver's failure receipt as the sender's error (SPEC 8.5.2); `refused`: it came instead of Ready. */
function failure(r: Receipt, entries: readonly SourceEntry[], refused: boolean): SecurePipeError {
  if (r.done > entries.length) return new ReceiptError(`the receiver reports ${r.done} of ${entries.length} entries done; its receipt is malformed (SPEC 8.5)`)
  const code = receiptCode(r.error?.code ?? '', Object.keys(EXIT_CODES) as ErrorCode[])
  const failed = entries[r.done]
  // A refusal before Ready concerns the manifest as a whole: the receiver's message names the entry.
  const which = refused ? 'the transfer' : failed === undefined ? 'finishing the transfer' : failed.type === 'stream' ? 'the stream' : showName(failed.name)
  const durable = r.done === 0 ? 'nothing was written' : `${r.done} of ${entries.length} entries are ${r.outcome === 'durable' ? 'durable' : 'delivered'} there, the rest were not written`
  return new TransferFailedError(code, `the receiver ${refused ? 'refused' : 'failed'} ${which}: ${(r.error?.message ?? 'no reason given').replace(/[.;]\s*$/, '')}; ${durable}`, r.done, entries.length)
}

/** `writeAll` stopped because the receiver reported a failure first (SPEC 8.5.2): the caller asks `Replies` for it. */
class Halted extends Error {}

/**
 * Write every chunk to the stream, then end it: the close record (SPEC 6.1). A chunk in `lent`
 * (a buffer the source refills) is waited for until it is sealed (the stream's write callback);
 * the others go on under the stream's backpressure. Stops at once when `stop` settles (the
 * receiver's failure receipt) or the stream fails, however the source is blocked.
 */
async function writeAll(stream: SecureStream, chunks: AsyncGenerator<Buffer>, lent: Buffer, stop: Promise<unknown>): Promise<void> {
  // Settles at the stream's 'finish' (after end()); rejects at its error, or at a close before it.
  const ended = finished(stream, { readable: false })
  // Each wait below is also ended by a failure receipt or by the stream's failure. Its listener
  // goes when the wait does: racing every wait against the two long-lived promises would keep
  // each chunk reachable from them until the transfer ends.
  const pending = new Set<(err: unknown) => void>()
  let stopped: unknown = null
  const interrupt = (err: unknown): void => { stopped ??= err; for (const reject of pending) reject(stopped); pending.clear() }
  stop.then(() => interrupt(new Halted('the receiver reported a failure')), () => {})
  ended.catch(interrupt)
  const wait = <T>(p: Promise<T>): Promise<T> => new Promise<T>((resolve, reject) => {
    if (stopped) return reject(stopped)
    pending.add(reject)
    p.then(v => { pending.delete(reject); resolve(v) }, err => { pending.delete(reject); reject(err) })
  })
  try {
    for (;;) {
      const next = await wait(chunks.next())
      if (next.done) break
      const chunk = next.value
      if (chunk.buffer === lent.buffer) await wait(new Promise<void>((resolve, reject) => stream.write(chunk, err => err ? reject(stream.errored ?? err) : resolve())))
      else if (!stream.write(chunk)) await wait(once(stream, 'drain'))
    }
    stream.end()
    await wait(ended)
  } finally {
    // Not awaited: a source blocked in a read (stdin) finishes its cleanup when that read returns.
    chunks.return(undefined).catch(() => {})
  }
}

function sendError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException
  if (err instanceof SecurePipeError) {
    if (err.code === 'ERR_TRUNCATED') return noReceiptError('the connection ended before the receiver confirmed delivery', err)
    if (err.code === 'ERR_NETWORK' && !/may not have the data/.test(err.message)) return noReceiptError(err.message, err)
    return err
  }
  if (e?.code === 'ERR_STREAM_PREMATURE_CLOSE') return noReceiptError('the connection closed before the receiver confirmed delivery', err)
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE') return noReceiptError(toNetworkError(err).message, err)
  return err
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} within ${ms / 1000} s (--receipt-timeout); the receiver may not have the data`)), ms)
  })
  try {
    return await Promise.race([p, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The receiver's direction (SPEC 8.3, 8.5): Ready (or a refusing Receipt), then one Receipt and
 * the close record. A failure receipt settles `failed` at once, so the sender stops sending.
 */
class Replies {
  readonly ready: Promise<Offer[] | Receipt>
  readonly receipt: Promise<Receipt>
  readonly failed: Promise<Receipt>
  #q = new ByteQueue()
  #phase: 'ready' | 'receipt' | 'end' = 'ready'
  #got: Receipt | undefined
  #failedReceipt: Receipt | undefined
  #settle = { ready: (_v: Offer[] | Receipt) => {}, receipt: (_v: Receipt) => {}, failed: (_v: Receipt) => {}, reject: (_e: unknown) => {} }
  readonly #off: () => void

  constructor(stream: SecureStream, private readonly entries: readonly SourceEntry[], private readonly resume: boolean) {
    let rejectReady!: (e: unknown) => void
    let rejectReceipt!: (e: unknown) => void
    this.ready = new Promise((resolve, reject) => { this.#settle.ready = resolve; rejectReady = reject })
    this.receipt = new Promise((resolve, reject) => { this.#settle.receipt = resolve; rejectReceipt = reject })
    this.failed = new Promise(resolve => { this.#settle.failed = resolve })
    this.ready.catch(() => {})
    this.receipt.catch(() => {})
    this.#settle.reject = e => { rejectReady(e); rejectReceipt(e) }
    const onData = (chunk: Buffer): void => { try { this.#data(chunk) } catch (err) { this.#settle.reject(err); stream.destroy() } }
    const onEnd = (): void => {
      if (this.#phase === 'end' && this.#got) this.#settle.receipt(this.#got)
      else this.#settle.reject(noReceiptError('the receiver closed the connection without a delivery receipt'))
    }
    const onError = (err: unknown): void => this.#settle.reject(err)
    const onClose = (): void => this.#settle.reject(noReceiptError('the connection closed before the receiver confirmed delivery'))
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('error', onError)
    stream.once('close', onClose)
    this.#off = () => { stream.off('data', onData); stream.off('end', onEnd); stream.off('error', onError); stream.off('close', onClose) }
  }

  /** The failure receipt if one has arrived (after a failed pipeline, give the stream a moment to deliver it). */
  async failedNow(): Promise<Receipt | undefined> {
    if (!this.#failedReceipt) await new Promise(resolve => setTimeout(resolve, 50))
    return this.#failedReceipt
  }

  stop(): void { this.#off() }

  #data(chunk: Buffer): void {
    if (this.#phase === 'end') throw new ReceiptError('the receiver sent bytes after its delivery receipt (SPEC 8.5.2)')
    this.#q.push(chunk)
    if (this.#phase === 'ready') {
      if (this.#q.length >= 4 && this.#q.peek(4)!.toString('latin1') === 'SPRC') this.#phase = 'receipt'
      else {
        const offers = takeReady(this.#q, this.entries, this.resume)
        if (offers === null) return
        this.#phase = 'receipt'
        this.#settle.ready(offers)
      }
    }
    if (this.#phase === 'receipt') {
      const r = takeReceipt(this.#q)
      if (r === null) return
      this.#phase = 'end'
      this.#got = r
      if (r.error) { this.#failedReceipt = r; this.#settle.ready(r); this.#settle.failed(r); this.#settle.receipt(r) }
      if (this.#q.length > 0) throw new ReceiptError('the receiver sent bytes after its delivery receipt (SPEC 8.5.2)')
    }
  }
}

