/**
 * A secure stream over any duplex transport, like `tls.TLSSocket`: plaintext in and out.
 * The handshake runs through the HandshakeStage (SPEC 3); after it the stream seals and frames,
 * and deframes and opens, records itself (issue 18, decision 3), with the same RecordProtector
 * and frame format as the composable stages (EncryptStage, FrameEncoder, FrameDecoder,
 * DecryptStage) and no stream hop per record:
 *   inbound:  transport 'data' -> FrameParser -> (HandshakeStage until 'secure') | open -> this (readable)
 *   outbound: this (writable) -> seal -> encodeFrame -> transport (corked for each tick)
 * Handshake messages are written straight to the transport, before any record.
 * test/streams/fused.test.ts shows the two paths write the same bytes and read each other's.
 */
import { Duplex, finished } from 'node:stream'
import { DEFAULT_RECORD_SIZE, HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES, MAX_RECORD_SIZE, RECORD_TYPE, recordFrameLimit, type CipherName } from './constants.js'
import { SecurePipeError, TimeoutError, TruncatedError, toNetworkError } from './errors.js'
import { FrameParser, encodeFrame, frameHeader } from './framing/frame.js'
import { HandshakeStage } from './handshake/stream.js'
import type { ClientHandshake } from './handshake/client.js'
import type { ServerHandshake } from './handshake/server.js'
import type { SessionKeys } from './handshake/keyschedule.js'
import { openInbound } from './record/decrypt.js'
import { checkRecordSize } from './record/encrypt.js'
import { RecordProtector } from './record/protector.js'
import type { RandomSource } from './crypto/random.js'

const EMPTY = Buffer.alloc(0)

/** Options of one secure session, shared by `connect`, `createServer` and `new SecureStream`. */
export interface SessionOptions {
  /** SPEC 5.5: plaintext bytes per record (default 64 KiB, at most 1 MiB). Both sides must allow the peer's size. */
  recordSize?: number
  /** SPEC 3.7: handshake deadline in ms (default 10 000). */
  handshakeTimeoutMs?: number
  /** Destroy the stream with ERR_TIMEOUT after this many ms without traffic (default: none). */
  idleTimeoutMs?: number
  /** SPEC 5.6: records per key before a key update (default 65 536). Tests lower it. */
  keyUpdateInterval?: number
  /** Test-only: deterministic randomness for records (protocol vectors). */
  random?: RandomSource
  /**
   * Keep this side open after the peer's close record (default false, as `net` does): by
   * default, once the peer's data has been read to its end, this side ends too (after what was
   * written before), so a handler that only reads, such as `s => s.pipe(file)`, still lets both
   * ends finish (issue 17 section 6). Set true to write after the peer ended (a reply sent
   * later); `sendEntries` and `receiveEntries` set it themselves (SPEC 8.5: the receipt
   * follows the sender's close record).
   */
  allowHalfOpen?: boolean
}

/**
 * SPEC 7: the most bytes one connection reads from its socket ahead of a reader that stopped
 * reading, whatever the peer sends. With F the largest frame (a 1 MiB record) and B = 256 KiB,
 * the stream's own record path holds: the socket's buffer and one read (B + 64 KiB), the frames
 * parsed from one read, waiting (at most F + 64 KiB), the frame being assembled F, this stream's
 * buffer B and the payload that crossed it F. The stage composition (FrameDecoder ->
 * HandshakeStage -> DecryptStage, each holding one frame on its object-mode side) holds more:
 *   frame decoder input B + one socket read (64 KiB) + the frame it is assembling F
 *   + the frame decoder's and the handshake stage's output, one frame each 2F
 *   + decrypt output B + one record's payload F + this stream's buffer B + one payload F
 * and this bound is that larger sum, so it holds for both.
 */
export const INBOUND_BUFFER_BOUND = 3 * 4 * DEFAULT_RECORD_SIZE + 64 * 1024 + 5 * recordFrameLimit(MAX_RECORD_SIZE)

type Transport = Duplex & { setTimeout?(ms: number, cb?: () => void): unknown, setNoDelay?(noDelay?: boolean): unknown, remoteAddress?: string, remotePort?: number }

/**
 * A secure stream over any duplex transport (a TCP socket, a child process's stdio joined into
 * one duplex): write plaintext, read the peer's plaintext, each record verified before release.
 * `connect` and `createServer` build it over TCP; `'secure'` fires when the handshake completes.
 * The transport is set to half-close (`allowHalfOpen`, SPEC 6.3); this stream ends its own side
 * once the peer's has ended and was read, unless `SessionOptions.allowHalfOpen`. The readable side ends at the
 * peer's verified close record (SPEC 6.4), even if its transport stays open. An error never goes
 * unhandled, however late the application attaches: the first one stays in `errored`, and
 * `pipeline`, `finished` and `for await` report it when they attach.
 *
 * @example
 *   const s = await connect({ host: '127.0.0.1', port: 7070, privateKey, serverPublicKey })
 *   s.end('hello')
 */
export class SecureStream extends Duplex {
  /** `SHA256:...` of the peer's RSA key (the pinned server key, or the client's authorized key). */
  peerFingerprint: string | null = null
  /** `SHA256:...` of this side's key in this session: for a server holding several keys (a rotation), the one the client pinned. */
  localFingerprint: string | null = null
  /** SPEC 4.1: th, identical on both ends of one session. */
  handshakeHash: Buffer | null = null
  cipher: CipherName | null = null
  readonly remoteAddress: string
  readonly #transport: Transport
  readonly #handshake: HandshakeStage
  readonly #parser: FrameParser
  readonly #recordSize: number
  readonly #extra: { keyUpdateInterval?: number, random?: RandomSource }
  #send: RecordProtector | null = null
  #receive: RecordProtector | null = null
  /** Inbound frames parsed and not yet handled (at most one transport read's worth). */
  #frames: Buffer[] = []
  /** A handshake frame is with the HandshakeStage (the server's RSA work may wait for the thread pool). */
  #stepping = false
  /** The reader stopped taking data (push returned false): frames wait, the transport is paused. */
  #full = false
  #transportEnded = false
  #inboundDone = false
  #peerClosed = false
  #corked = false
  /** A write or end() that came before the handshake completed: run once the keys are there. */
  #held: (() => void) | null = null

  constructor(transport: Transport, machine: ClientHandshake | ServerHandshake, opts: SessionOptions = {}) {
    super({ allowHalfOpen: opts.allowHalfOpen === true, readableHighWaterMark: 4 * DEFAULT_RECORD_SIZE, writableHighWaterMark: 4 * DEFAULT_RECORD_SIZE })
    this.#recordSize = checkRecordSize(opts.recordSize)
    if (!(transport instanceof Duplex)) throw new TypeError('transport: expected a duplex stream (a socket, a pair of pipes, a child process\'s stdio as a Duplex)')
    // SPEC 6.3, 8.5.4: each direction ends on its own; a transport that ends its writable side with
    // its readable one would cut the peer's answer off. The stream owns the transport from here on.
    transport.allowHalfOpen = true
    this.#transport = transport
    this.remoteAddress = peerAddress(transport)
    this.#extra = { ...(opts.keyUpdateInterval ? { keyUpdateInterval: opts.keyUpdateInterval } : {}), ...(opts.random ? { random: opts.random } : {}) }
    this.#handshake = new HandshakeStage({ machine, send: (f, done) => this.#sendHandshake(f, done), ...(opts.handshakeTimeoutMs ? { timeoutMs: opts.handshakeTimeoutMs } : {}) })
    this.#handshake.once('secure', (k: SessionKeys) => this.#onSecure(k, opts.idleTimeoutMs))
    this.#handshake.on('error', err => this.#fail(err))
    this.#handshake.resume() // it passes nothing on: records never go through it here
    // SPEC 7: handshake frames are limited tighter than records; any record of up to 1 MiB is accepted.
    this.#parser = new FrameParser({ limit: recordFrameLimit(Math.max(this.#recordSize, 1024 * 1024)), smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT }, f => this.#frames.push(f), true)
    transport.on('data', (chunk: Buffer) => this.#onBytes(chunk))
    transport.on('end', () => { this.#transportEnded = true; this.#handleFrames() })
    // A transport error, or its close before both of its directions ended, ends the session.
    finished(transport, err => { if (err) this.#fail(err) })
    // An 'error' has a listener from the first byte to the last, whatever the application does
    // between the handshake and attaching its own (awaiting a file, say): no crash window.
    this.on('error', () => {})
  }

  /** Like `net.Socket#setNoDelay`: forwarded to the transport when it has one (connect and createServer turn Nagle off already). */
  setNoDelay(noDelay = true): this {
    this.#transport.setNoDelay?.(noDelay)
    return this
  }

  /**
   * SPEC 8.5: SHA-256 over the tags of the records this side sent, or verified from the peer, so
   * far (the close record included once it went or came). Two ends that agree on it agree on
   * every byte of that direction: each tag authenticates its record's content and position.
   * An application's delivery receipt can carry it instead of hashing the data again.
   */
  tagDigest(direction: 'sent' | 'received'): Buffer | null {
    return (direction === 'sent' ? this.#send : this.#receive)?.tagDigest ?? null
  }

  /** Resolves when the handshake completes; rejects with its error. */
  get secure(): Promise<void> {
    return this.#handshake.keys.then(() => undefined)
  }

  /**
   * A write's callback runs once its chunk is sealed and handed to the transport (later when
   * the transport is full: that is the backpressure): nothing refers to the caller's buffer
   * after that, so the caller may reuse it, as with `fs.write` (the file sender reads every
   * chunk into one buffer, issue 11). Writes before the handshake completes wait for it.
   */
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (!this.#send) { this.#held = () => this.#sealData(chunk, callback); return }
    this.#sealData(chunk, callback)
  }

  override _final(callback: (err?: Error | null) => void): void {
    // SPEC 6.1: end() sends the close record; 'finish' waits until the transport finished.
    if (!this.#send) { this.#held = () => this.#sealClose(callback); return }
    this.#sealClose(callback)
  }

  override _read(): void {
    if (!this.#full) return
    this.#full = false
    this.#handleFrames()
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const e = err ? translate(err) : null
    // SPEC 4.4: the traffic secrets and keys are zeroed; an unfinished handshake forgets its own.
    this.#send?.wipe()
    this.#receive?.wipe()
    this.#handshake.destroy()
    this.#transport.destroy()
    callback(e)
  }

  #sendHandshake(frame: Buffer, done?: () => void): void {
    this.#transport.write(Buffer.concat([frameHeader(frame.length), frame]), () => done?.())
  }

  #onSecure(keys: SessionKeys, idleTimeoutMs?: number): void {
    this.#send = new RecordProtector({ ...keys.send, ...this.#extra })
    this.#receive = new RecordProtector({ ...keys.receive, ...this.#extra })
    if (this.destroyed) { this.#send.wipe(); this.#receive.wipe(); return }
    this.peerFingerprint = this.#handshake.peerFingerprint
    this.localFingerprint = this.#handshake.localFingerprint
    this.handshakeHash = keys.handshakeHash
    this.cipher = keys.cipher
    if (idleTimeoutMs && this.#transport.setTimeout) {
      this.#transport.setTimeout(idleTimeoutMs, () => this.destroy(new TimeoutError(`no data moved for ${idleTimeoutMs / 1000} s; the connection was closed as idle`)))
    }
    const held = this.#held
    this.#held = null
    held?.()
    this.emit('secure')
  }

  // Outbound: SPEC 5.5, a chunk becomes records of at most the record size, each one frame.

  #sealData(chunk: Buffer, callback: (err?: Error | null) => void): void {
    if (chunk.length === 0) return callback()
    let records: Buffer[][]
    try {
      records = this.#send!.sealAll(RECORD_TYPE.data, chunk, this.#recordSize)
    } catch (err) {
      return callback(err as Error)
    }
    if (this.#writeFrames(records)) return callback()
    this.#transport.once('drain', () => callback())
  }

  #sealClose(callback: (err?: Error | null) => void): void {
    try {
      this.#writeFrames([this.#send!.seal(RECORD_TYPE.close, EMPTY)])
    } catch (err) {
      return callback(err as Error)
    }
    this.#transport.end((err?: Error | null) => callback(err ? translate(err) : null))
  }

  /**
   * Every record written in one tick reaches the transport as one write: it is corked at the
   * tick's first record and uncorked after it, so a record's header, ciphertext and tail, and
   * the records sealed in the same tick, leave in one writev, uncopied. False: the transport is full.
   */
  #writeFrames(records: Buffer[][]): boolean {
    const t = this.#transport
    if (!this.#corked) {
      this.#corked = true
      t.cork()
      process.nextTick(() => { this.#corked = false; t.uncork() })
    }
    let ok = true
    for (const record of records) for (const b of encodeFrame(record)) ok = t.write(b)
    return ok
  }

  // Inbound: frames from the transport, to the handshake until it completes, then opened here.

  #onBytes(chunk: Buffer): void {
    if (this.#inboundDone) return
    try {
      this.#parser.push(chunk)
    } catch (err) {
      return this.#fail(err as Error)
    }
    this.#handleFrames()
  }

  #handleFrames(): void {
    const frames = this.#frames
    let i = 0
    while (i < frames.length && !this.#stepping && !this.#full && !this.destroyed) {
      const frame = frames[i++]!
      if (this.#receive) {
        this.#openRecord(frame)
        continue
      }
      // SPEC 3: one handshake message at a time; the next frame waits for this step's answer.
      this.#stepping = true
      this.#handshake.write(frame, err => {
        this.#stepping = false
        if (!err) this.#handleFrames()
      })
    }
    frames.splice(0, i)
    if (this.destroyed) return
    // SPEC 7: while frames wait, the transport is not read.
    if (frames.length > 0 || this.#stepping || this.#full) this.#transport.pause()
    else {
      this.#transport.resume()
      if (this.#transportEnded) this.#onInboundEnd()
    }
  }

  #openRecord(frame: Buffer): void {
    let payload: Buffer | null
    try {
      payload = openInbound(this.#receive!, frame, this.#peerClosed)
    } catch (err) {
      this.#inboundDone = true
      return this.#fail(err as Error)
    }
    // The payload is the cipher's own output: the frame's memory may hold the next frame.
    this.#parser.recycle(frame)
    if (payload === null) {
      this.#peerClosed = true
      // SPEC 6.1 (v2): the verified close record is the end of the peer's direction; the readable
      // side ends here, not at the transport's end, which a peer may keep open. It ends once the
      // input that carried the close is handled, so a record sent after it in the same write
      // still fails the stream.
      setImmediate(() => { if (!this.destroyed) this.push(null) })
      return
    }
    if (payload.length > 0 && !this.push(payload)) this.#full = true
  }

  #onInboundEnd(): void {
    if (this.#inboundDone) return
    this.#inboundDone = true
    try {
      this.#parser.end()
    } catch (err) {
      return this.#fail(err as Error)
    }
    // SPEC 3: a peer that leaves during the handshake: the stage says so (ERR_NETWORK).
    if (!this.#receive) return void this.#handshake.end()
    // SPEC 6.2: an end of stream without a verified close record is truncation.
    if (!this.#peerClosed) this.#fail(new TruncatedError('the connection ended before the sender\'s authenticated end of stream: the data is incomplete'))
  }

  /**
   * Tear down with the most telling error: one of ours (ERR_AUTH, ERR_INTEGRITY...) beats the
   * transport noise (premature close, EPIPE) its teardown causes.
   */
  #fail(err: Error): void {
    if (err instanceof SecurePipeError) this.destroy(err)
    else setImmediate(() => this.destroy(translate(err)))
  }
}

/** `host:port` of the transport's peer, for logs; 'unknown' for transports without one. */
export function peerAddress(transport: { remoteAddress?: string, remotePort?: number }): string {
  return transport.remoteAddress ? `${transport.remoteAddress}:${transport.remotePort}` : 'unknown'
}

/** Errors from stages are ours already; the rest come from the transport. */
function translate(err: Error): SecurePipeError {
  return err instanceof SecurePipeError ? err : toNetworkError(err)
}


/** Typed events (issue 12): 'secure' once the handshake completed; 'error' always carries a SecurePipeError. */
export interface SecureStream {
  on(event: 'secure', listener: () => void): this
  on(event: 'error', listener: (err: SecurePipeError) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'secure', listener: () => void): this
  once(event: 'error', listener: (err: SecurePipeError) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}
