/**
 * The handshake stage (SPEC 3): a Transform of frames (object mode on both sides: one chunk is
 * one frame). It consumes the peer's handshake messages, sends its own through `send`, and once
 * the peer's Finished verifies it passes every later frame (the records) through unchanged.
 * `keys` resolves with the session keys at that moment; no record passes before it. A client
 * stage sends its ClientHello by itself, on the next tick after construction.
 *
 * @example
 *   const handshake = new HandshakeStage({ machine: new ClientHandshake({ privateKey, serverPublicKey }), send: socket })
 *   pipeline(socket, new FrameDecoder({ limit: recordFrameLimit(MAX_RECORD_SIZE) }), handshake, new DecryptStage({ keys: handshake.keys }), out, cb)
 *   pipeline(input, new EncryptStage({ keys: handshake.keys }), new FrameEncoder(), socket, cb)
 */
import { Transform, type TransformCallback, type Writable } from 'node:stream'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../constants.js'
import { NetworkError, TimeoutError } from '../errors.js'
import { ClientHandshake } from './client.js'
import { ServerHandshake } from './server.js'
import { encodeAlert, type Refusal } from './messages.js'
import type { SessionKeys } from './keyschedule.js'
import { frameHeader } from '../framing/frame.js'

/** Writes one handshake message to the peer; `done` runs once it is handed to the transport. */
export type SendHandshake = (message: Buffer, done?: () => void) => void

/** `HandshakeStage`'s options: the state machine, where its messages go, and the deadline. */
export interface HandshakeStageOptions {
  machine: ClientHandshake | ServerHandshake
  /**
   * Where the stage's own handshake messages go: the transport (a writable stream, which gets
   * each message framed, SPEC 2.1), or a function that frames and writes it.
   */
  send: Writable | NodeJS.WritableStream | SendHandshake
  /** SPEC 3.7: the whole handshake must finish within this time (default 10 s). */
  timeoutMs?: number
}

function sender(send: HandshakeStageOptions['send']): SendHandshake {
  if (typeof send === 'function') return send
  if (send && typeof (send as NodeJS.WritableStream).write === 'function') {
    const transport = send as NodeJS.WritableStream & { allowHalfOpen?: boolean }
    // SPEC 6.3, 8.5.4: each direction ends on its own, so a duplex transport must not end its
    // writable side when its readable side ends (a socket's default).
    if (transport.allowHalfOpen === false) transport.allowHalfOpen = true
    return (message, done) => { transport.write(Buffer.concat([frameHeader(message.length), message]), () => done?.()) }
  }
  throw new TypeError('send: give the transport (a writable stream) or a function that writes one handshake message')
}

/** The handshake as a `Transform` of frames; see the module comment above for its place in a pipeline. */
export class HandshakeStage extends Transform {
  /** Resolves with the session keys when the peer's Finished verifies; rejects on failure. */
  readonly keys: Promise<SessionKeys>
  readonly #machine: ClientHandshake | ServerHandshake
  readonly #send: SendHandshake
  readonly #timer: NodeJS.Timeout
  #steps = 0
  #done = false
  #resolve!: (k: SessionKeys) => void
  #reject!: (e: Error) => void

  constructor(opts: HandshakeStageOptions) {
    super({ objectMode: true, highWaterMark: 1 }) // SPEC 7: one frame per side; Node counts objects, not bytes
    if (!(opts?.machine instanceof ClientHandshake || opts?.machine instanceof ServerHandshake)) throw new TypeError('machine: give a ClientHandshake or a ServerHandshake')
    this.#machine = opts.machine
    this.#send = sender(opts.send)
    this.keys = new Promise((resolve, reject) => { this.#resolve = resolve; this.#reject = reject })
    this.keys.catch(() => {})
    const ms = opts.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    // SPEC 3.7: a handshake that does not complete in time is ERR_TIMEOUT.
    this.#timer = setTimeout(() => this.destroy(new TimeoutError(`the handshake did not complete within ${ms / 1000} s: the peer is not responding or not speaking secure-pipe`)), ms)
    this.#timer.unref()
    // SPEC 3.1: the client speaks first, on the next tick, once the caller has wired the stage up.
    const machine = this.#machine
    if (machine instanceof ClientHandshake) process.nextTick(() => { if (!this.destroyed) this.#send(machine.clientHello) })
  }


  get complete(): boolean { return this.#done }

  get peerFingerprint(): string | null { return this.#machine.peerFingerprint }

  /** This side's key fingerprint: for a server, the key (of several, during a rotation) the client pinned. */
  get localFingerprint(): string | null { return this.#machine.localFingerprint }

  override _transform(frame: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#done) return callback(null, frame)
    // A step may wait for the thread pool (the server's RSA work): the next frame waits for it.
    this.#step(frame).then(keys => {
      if (this.destroyed) return callback()
      if (keys) this.#finish(keys)
      callback()
    }, (err: Error) => {
      const alert = (err as Partial<Refusal>).alert
      // SPEC 3.6: a refused ClientHello is answered by one alert before the connection closes.
      if (alert !== undefined && !this.destroyed) return this.#send(encodeAlert(alert), () => callback(err))
      callback(err)
    })
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#done) return callback(new NetworkError('the peer closed the connection during the handshake'))
    callback()
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#timer)
    if (!this.#done) {
      this.#machine.wipe() // SPEC 4.4: an abandoned handshake forgets its secrets
      this.#reject(err ?? new NetworkError('the connection closed during the handshake'))
    }
    callback(err)
  }

  /** One peer message in; its answer out through `send`; the session keys once the peer's Finished verifies. */
  async #step(frame: Buffer): Promise<SessionKeys | null> {
    const first = this.#steps++ === 0
    const m = this.#machine
    if (m instanceof ClientHandshake) {
      if (first) {
        this.#send(m.onServerHello(frame))
        return null
      }
      return m.onServerFinished(frame)
    }
    if (first) {
      const serverHello = await m.onClientHello(frame)
      if (!this.destroyed) this.#send(serverHello)
      return null
    }
    const { serverFinished, keys } = m.onClientFinished(frame)
    this.#send(serverFinished)
    return keys
  }

  #finish(keys: SessionKeys): void {
    this.#done = true
    clearTimeout(this.#timer)
    this.#resolve(keys)
    this.emit('secure', keys)
  }
}

