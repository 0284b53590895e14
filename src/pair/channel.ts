/**
 * Frames over one socket for the pairing exchange (SPEC 14.4): `FrameDecoder` with the
 * pairing's frame limit, a deadline for the whole exchange, and `next()` to await one frame.
 */
import type { Socket } from 'node:net'
import { FrameDecoder, frameHeader } from '../framing/frame.js'
import { SecurePipeError, TimeoutError, toNetworkError } from '../errors.js'
import { PAIR_FRAME_LIMIT } from './messages.js'

/** The end of the stream before an expected frame. */
export class ChannelClosed extends Error {}

export class FrameChannel {
  readonly socket: Socket
  readonly #frames: Buffer[] = []
  #waiter: { resolve: (f: Buffer) => void, reject: (e: Error) => void } | undefined
  #failure: Error | undefined
  readonly #timer: NodeJS.Timeout

  /** `timeoutMs` bounds the whole exchange from now; at the deadline the socket is destroyed. */
  constructor(socket: Socket, timeoutMs: number, what: string) {
    this.socket = socket
    const decoder = new FrameDecoder({ limit: PAIR_FRAME_LIMIT })
    decoder.on('data', (frame: Buffer) => {
      if (this.#waiter) {
        const w = this.#waiter
        this.#waiter = undefined
        w.resolve(frame)
      } else if (this.#frames.length < 4) {
        this.#frames.push(frame)
      } else {
        this.#fail(new SecurePipeError('ERR_PROTOCOL', `${what}: the peer sent more frames than the exchange has`))
      }
    })
    decoder.on('error', err => this.#fail(err))
    decoder.on('end', () => this.#fail(new ChannelClosed(`${what}: the peer closed the connection`)))
    socket.on('error', err => this.#fail(toNetworkError(err)))
    socket.pipe(decoder)
    this.#timer = setTimeout(() => {
      this.#fail(new TimeoutError(`${what} did not complete within ${timeoutMs / 1000} s`))
      socket.destroy()
    }, timeoutMs)
    this.#timer.unref()
    socket.once('close', () => {
      clearTimeout(this.#timer)
      this.#fail(new ChannelClosed(`${what}: the connection closed`))
    })
  }

  /** The next frame; rejects on the end of the stream (ChannelClosed), a deadline, a bad frame. */
  next(): Promise<Buffer> {
    const frame = this.#frames.shift()
    if (frame) return Promise.resolve(frame)
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject } })
  }

  send(frame: Buffer): void {
    if (!this.socket.writable) return
    this.socket.write(Buffer.concat([frameHeader(frame.length), frame]))
  }

  /** Send `frame` (if any) and end the connection. */
  finish(frame?: Buffer): void {
    clearTimeout(this.#timer)
    if (frame) this.send(frame)
    if (this.socket.writable) this.socket.end()
    this.socket.setTimeout(1000, () => this.socket.destroy()) // a peer that never closes its side
  }

  #fail(err: Error): void {
    this.#failure ??= err
    const w = this.#waiter
    this.#waiter = undefined
    w?.reject(this.#failure)
  }
}
