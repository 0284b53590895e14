/**
 * TCP entry points: `connect` (the handshake client) and `createServer` (the handshake server).
 * Each connection is independent (SPEC 3), so servers scale out behind any TCP load balancer.
 */
import { createConnection, Server, type Socket } from 'node:net'
import type { KeyObject } from 'node:crypto'
import { ClientHandshake } from './handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from './handshake/server.js'
import { SecureStream, peerAddress, type SessionOptions } from './session.js'
import { checkRsaKey } from './crypto/rsa.js'
import { NetworkError, SecurePipeError, TimeoutError, toNetworkError } from './errors.js'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type CipherName } from './constants.js'

/** What `connect` needs: where to connect, this client's key, the pinned server key, and the session options. */
export interface ConnectOptions extends SessionOptions {
  /** The server's host name or address (default 127.0.0.1). */
  host?: string
  /** The server's TCP port. */
  port: number
  /** The client's RSA private key. */
  privateKey: KeyObject
  /** The pinned server public key (serverPK.pem). */
  serverPublicKey: KeyObject
  /** Offered record ciphers in order of preference (default AES-128-CCM, AES-256-CCM). */
  ciphers?: CipherName[]
}

/**
 * Connect and complete the handshake; resolves with the secure stream.
 *
 * @example
 *   const s = await connect({ host: '127.0.0.1', port: 7070, privateKey, serverPublicKey })
 */
export async function connect(opts: ConnectOptions): Promise<SecureStream> {
  checkRsaKey(opts.privateKey, 'the client private key')
  checkRsaKey(opts.serverPublicKey, 'the server public key')
  return await new Promise((resolve, reject) => {
    const socket = createConnection({ host: opts.host ?? '127.0.0.1', port: opts.port, allowHalfOpen: true })
    socket.setNoDelay(true)
    const machine = new ClientHandshake({ privateKey: opts.privateKey, serverPublicKey: opts.serverPublicKey, ...(opts.ciphers ? { ciphers: opts.ciphers } : {}) })
    const stream = new SecureStream(socket, machine, opts)
    const onError = (err: Error): void => reject(err instanceof SecurePipeError ? err : toNetworkError(err))
    stream.once('error', onError)
    stream.once('secure', () => {
      stream.off('error', onError)
      resolve(stream)
    })
  })
}

/** What `createServer` needs: the server's key(s), the authorized client keys, limits, and the session options. */
export interface ServerOptions extends SessionOptions {
  /** The server's private key, or several during a key rotation (each client names the one it pinned, SPEC 3.2). */
  privateKey: KeyObject | KeyObject[]
  /** Client public keys allowed to connect. */
  authorizedKeys: KeyObject[]
  /** Ciphers this server allows; it picks the client's first choice among them. */
  ciphers?: CipherName[]
  /**
   * Most connections in the handshake at once (default 64). Beyond it, new connections wait
   * (unread, within their handshake timeout), so strangers cannot keep the CPU busy with RSA.
   */
  maxHandshakes?: number
  /**
   * Most connections waiting for a handshake slot (default 1024). Beyond it a new connection
   * is closed at once, unread, and reported: each waiting connection holds a file descriptor.
   */
  maxWaiting?: number
}

/**
 * A `net.Server` that runs the handshake on each connection and hands each secure stream to
 * `onStream`. Emits `'handshakeError'(err, remoteAddress)` for connections that fail before that.
 *
 * @example
 *   createServer({ privateKey, authorizedKeys }, s => s.pipe(process.stdout)).listen(7070, '127.0.0.1')
 */
export class SecureServer extends Server {
  readonly #opts: ServerOptions
  readonly #authorized: AuthorizedKeys
  readonly #maxHandshakes: number
  readonly #maxWaiting: number
  readonly #waiting: Socket[] = []
  readonly #timeoutMs: number
  #handshaking = 0

  constructor(opts: ServerOptions, onStream?: (s: SecureStream) => void) {
    super({ allowHalfOpen: true, pauseOnConnect: true })
    ;[opts.privateKey].flat().forEach((k, i) => checkRsaKey(k, `server private key ${i + 1}`))
    this.#opts = opts
    opts.authorizedKeys.forEach((k, i) => checkRsaKey(k, `authorized key ${i + 1}`))
    this.#authorized = new AuthorizedKeys(opts.authorizedKeys)
    if (this.#authorized.size === 0) throw new RangeError('authorizedKeys must hold at least one key')
    this.#maxHandshakes = opts.maxHandshakes ?? 64
    this.#maxWaiting = opts.maxWaiting ?? 1024
    this.#timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    if (onStream) this.on('secureConnection', onStream)
    this.on('connection', (socket: Socket) => this.#admit(socket))
  }

  /** Connections in the handshake now, and waiting for a slot. */
  get handshakes(): { active: number, waiting: number } {
    return { active: this.#handshaking, waiting: this.#waiting.length }
  }

  #admit(socket: Socket): void {
    socket.setNoDelay(true)
    socket.on('error', () => {}) // reported through the secure stream
    if (this.#handshaking < this.#maxHandshakes) return this.#start(socket)
    if (this.#waiting.length >= this.#maxWaiting) {
      this.emit('handshakeError', new NetworkError(`the server is busy (${this.#maxHandshakes} handshakes running, ${this.#maxWaiting} waiting); the connection was closed unread`), peerAddress(socket))
      socket.destroy()
      return
    }
    this.#waiting.push(socket)
    // A connection waits at most one handshake timeout for a slot, then gets a full one for its
    // handshake: a slot held by a stalled peer frees before the peers queued behind it give up.
    const timer = setTimeout(() => {
      if (!this.#unqueue(socket)) return // it got a slot
      this.emit('handshakeError', new TimeoutError(`waited ${this.#timeoutMs / 1000} s for a handshake slot (maxHandshakes ${this.#maxHandshakes} busy); the connection was closed unread`), peerAddress(socket))
      socket.destroy()
    }, this.#timeoutMs)
    timer.unref()
    socket.once('close', () => {
      clearTimeout(timer)
      this.#unqueue(socket)
    })
  }

  #unqueue(socket: Socket): boolean {
    const i = this.#waiting.indexOf(socket)
    if (i >= 0) this.#waiting.splice(i, 1)
    return i >= 0
  }

  #start(socket: Socket): void {
    this.#handshaking++
    const machine = new ServerHandshake({ privateKey: this.#opts.privateKey, authorizedKeys: this.#authorized, ...(this.#opts.ciphers ? { ciphers: this.#opts.ciphers } : {}) })
    const stream = new SecureStream(socket, machine, this.#opts)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.#handshaking--
      const next = this.#waiting.shift()
      if (next) this.#start(next)
    }
    const onError = (err: Error): void => {
      release()
      this.emit('handshakeError', err, stream.remoteAddress)
    }
    stream.once('error', onError)
    stream.once('secure', () => {
      release()
      stream.off('error', onError)
      this.emit('secureConnection', stream)
    })
    socket.resume()
  }
}

/**
 * Create a `SecureServer`: every accepted connection runs the server's handshake, and each
 * authenticated peer's `SecureStream` is passed to `onStream` (the `'secureConnection'` event).
 *
 * @example
 *   const server = createServer({ privateKey, authorizedKeys: [clientPublicKey] }, stream => stream.pipe(process.stdout))
 *   server.on('handshakeError', (err, remote) => console.error(remote, err.code))
 *   server.listen(7070, '127.0.0.1')
 */
export function createServer(opts: ServerOptions, onStream?: (s: SecureStream) => void): SecureServer {
  return new SecureServer(opts, onStream)
}
