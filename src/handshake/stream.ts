/**
 * The handshake stage (SPEC 3): a Transform of frames (object mode on both sides: one chunk is
 * one frame). It consumes the peer's handshake messages, sends its own through `send`, and once
 * the peer's Finished verifies it passes every later frame (the records) through unchanged.
 * `keys` resolves with the session keys at that moment; no record passes before it.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../constants.js'
import { NetworkError, TimeoutError } from '../errors.js'
import { ClientHandshake } from './client.js'
import { ServerHandshake } from './server.js'
import { encodeAlert, type Refusal } from './messages.js'
import type { SessionKeys } from './keyschedule.js'

export interface HandshakeStageOptions {
  machine: ClientHandshake | ServerHandshake
  /** Writes one handshake frame to the peer; `done` runs once it is handed to the transport. */
  send(frame: Buffer, done?: () => void): void
  /** SPEC 3.7: the whole handshake must finish within this time (default 10 s). */
  timeoutMs?: number
}

export class HandshakeStage extends Transform {
  /** Resolves with the session keys when the peer's Finished verifies; rejects on failure. */
  readonly keys: Promise<SessionKeys>
  readonly #machine: ClientHandshake | ServerHandshake
  readonly #send: HandshakeStageOptions['send']
  readonly #timer: NodeJS.Timeout
  #steps = 0
  #done = false
  #resolve!: (k: SessionKeys) => void
  #reject!: (e: Error) => void

  constructor(opts: HandshakeStageOptions) {
    super({ objectMode: true, highWaterMark: 4 })
    this.#machine = opts.machine
    this.#send = opts.send
    this.keys = new Promise((resolve, reject) => { this.#resolve = resolve; this.#reject = reject })
    this.keys.catch(() => {})
    const ms = opts.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    // SPEC 3.7: a handshake that does not complete in time is ERR_TIMEOUT.
    this.#timer = setTimeout(() => this.destroy(new TimeoutError(`the handshake did not complete within ${ms / 1000} s: the peer is not responding or not speaking secure-pipe`)), ms)
    this.#timer.unref()
  }

  /** The client speaks first: send the ClientHello (SPEC 3.1). A server does nothing. */
  start(): void {
    if (this.#machine instanceof ClientHandshake) this.#send(this.#machine.clientHello)
  }

  get complete(): boolean { return this.#done }

  get peerFingerprint(): string | null { return this.#machine.peerFingerprint }

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

