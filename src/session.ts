/**
 * A secure stream over any duplex transport, like `tls.TLSSocket`: plaintext in and out.
 * It composes the stages (SPEC 2-6) with `pipeline`:
 *   inbound:  transport -> FrameDecoder -> HandshakeStage -> DecryptStage -> this (readable)
 *   outbound: this (writable) -> EncryptStage -> FrameEncoder -> transport
 * Handshake messages are written straight to the transport, before any record.
 */
import { Duplex, pipeline, type Readable } from 'node:stream'
import { DEFAULT_RECORD_SIZE, HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES, MAX_RECORD_SIZE, recordFrameLimit, type CipherName } from './constants.js'
import { SecurePipeError, TimeoutError, toNetworkError } from './errors.js'
import { FrameDecoder, FrameEncoder, frameHeader } from './framing/frame.js'
import { HandshakeStage } from './handshake/stream.js'
import type { ClientHandshake } from './handshake/client.js'
import type { ServerHandshake } from './handshake/server.js'
import type { SessionKeys } from './handshake/keyschedule.js'
import { DecryptStage } from './record/decrypt.js'
import { EncryptStage, checkRecordSize } from './record/encrypt.js'
import type { RandomSource } from './crypto/random.js'

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
 * reading, whatever the peer sends. Node counts objects, not bytes, on object-mode sides, so
 * those hold one frame each (highWaterMark 1); byte-mode sides hold their highWaterMark plus the
 * chunk that crossed it. Inbound, with F the largest frame (a 1 MiB record) and B = 256 KiB:
 *   frame decoder input B + one socket read (64 KiB) + the frame it is assembling F
 *   + the frame decoder's and the handshake stage's output, one frame each 2F
 *   + decrypt output B + one record's payload F + this stream's buffer B + one payload F
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
  readonly #encrypt: EncryptStage
  readonly #decrypt: DecryptStage
  #finalCallback: ((err?: Error | null) => void) | null = null
  #outboundDone = false

  constructor(transport: Transport, machine: ClientHandshake | ServerHandshake, opts: SessionOptions = {}) {
    super({ allowHalfOpen: opts.allowHalfOpen === true, readableHighWaterMark: 4 * DEFAULT_RECORD_SIZE, writableHighWaterMark: 4 * DEFAULT_RECORD_SIZE })
    const recordSize = checkRecordSize(opts.recordSize)
    if (!(transport instanceof Duplex)) throw new TypeError('transport: expected a duplex stream (a socket, a pair of pipes, a child process\'s stdio as a Duplex)')
    // SPEC 6.3, 8.5.4: each direction ends on its own; a transport that ends its writable side with
    // its readable one would cut the peer's answer off. The stream owns the transport from here on.
    transport.allowHalfOpen = true
    this.#transport = transport
    this.remoteAddress = peerAddress(transport)
    this.#handshake = new HandshakeStage({ machine, send: (f, done) => this.#sendHandshake(f, done), ...(opts.handshakeTimeoutMs ? { timeoutMs: opts.handshakeTimeoutMs } : {}) })
    const keys = this.#handshake.keys
    const extra = { ...(opts.keyUpdateInterval ? { keyUpdateInterval: opts.keyUpdateInterval } : {}), ...(opts.random ? { random: opts.random } : {}) }
    this.#encrypt = new EncryptStage({ keys: keys.then(k => ({ ...k.send, ...extra })), recordSize })
    this.#decrypt = new DecryptStage({ keys: keys.then(k => ({ ...k.receive, ...extra })) })
    // SPEC 7: handshake frames are limited tighter than records; any record of up to 1 MiB is accepted.
    const decoder = new FrameDecoder({ limit: recordFrameLimit(Math.max(recordSize, 1024 * 1024)), smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT })
    this.#handshake.once('secure', (k: SessionKeys) => this.#onSecure(k, opts.idleTimeoutMs))
    pipeline(transport, decoder, this.#handshake, this.#decrypt, err => { if (err) this.#fail(err) })
    const encoder = new FrameEncoder()
    corkEachTick(encoder, transport)
    pipeline(this.#encrypt, encoder, transport, err => this.#onOutboundDone(err))
    this.#decrypt.on('data', (chunk: Buffer) => { if (!this.push(chunk)) this.#decrypt.pause() })
    this.#decrypt.on('end', () => this.push(null))
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
    return (direction === 'sent' ? this.#encrypt : this.#decrypt).tagDigest
  }

  /** Resolves when the handshake completes; rejects with its error. */
  get secure(): Promise<void> {
    return this.#handshake.keys.then(() => undefined)
  }

  /**
   * A write's callback runs once its chunk is sealed (the encrypt stage's own callback): nothing
   * refers to the caller's buffer after that, so the caller may reuse it, as with `fs.write`
   * (the file sender reads every chunk into one buffer, issue 11). Errors reach the stream
   * through the outbound pipeline, which destroys it with the most telling one.
   */
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#encrypt.write(chunk, () => callback())
  }

  override _final(callback: (err?: Error | null) => void): void {
    // SPEC 6.1: end() sends the close record; 'finish' waits until it reached the transport.
    if (this.#outboundDone) return callback()
    this.#finalCallback = callback
    this.#encrypt.end()
  }

  override _read(): void {
    this.#decrypt.resume()
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const e = err ? translate(err) : null
    for (const s of [this.#handshake, this.#encrypt, this.#decrypt]) s.destroy()
    this.#transport.destroy()
    callback(e)
  }

  #sendHandshake(frame: Buffer, done?: () => void): void {
    this.#transport.write(Buffer.concat([frameHeader(frame.length), frame]), () => done?.())
  }

  #onSecure(keys: SessionKeys, idleTimeoutMs?: number): void {
    this.peerFingerprint = this.#handshake.peerFingerprint
    this.localFingerprint = this.#handshake.localFingerprint
    this.handshakeHash = keys.handshakeHash
    this.cipher = keys.cipher
    if (idleTimeoutMs && this.#transport.setTimeout) {
      this.#transport.setTimeout(idleTimeoutMs, () => this.destroy(new TimeoutError(`no data moved for ${idleTimeoutMs / 1000} s; the connection was closed as idle`)))
    }
    this.emit('secure')
  }

  #onOutboundDone(err: Error | null | undefined): void {
    this.#outboundDone = true
    const cb = this.#finalCallback
    this.#finalCallback = null
    if (err) {
      this.#fail(err)
      cb?.(translate(err))
      return
    }
    cb?.()
  }

  /**
   * Tear down with the most telling error: one of ours (ERR_AUTH, ERR_INTEGRITY...) raised by a
   * stage beats the transport noise (premature close, EPIPE) its teardown causes in the other pipeline.
   */
  #fail(err: Error): void {
    if (err instanceof SecurePipeError) this.destroy(err)
    else setImmediate(() => this.destroy(translate(err)))
  }
}

/**
 * Everything `source` emits in one tick reaches the transport as one write: the transport is
 * corked at the tick's first chunk and uncorked after it, so a record's header, ciphertext and
 * tail, and the records sealed in the same tick, leave in one writev (no copy to join them).
 * The pipe's backpressure is unchanged: it pauses on the transport's write() as before.
 */
function corkEachTick(source: Readable, transport: Transport): void {
  let corked = false
  const uncork = (): void => { corked = false; transport.uncork() }
  // Before the pipe's own 'data' listener, so the chunk that starts a tick is written corked.
  source.prependListener('data', () => {
    if (corked) return
    corked = true
    transport.cork()
    process.nextTick(uncork)
  })
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
