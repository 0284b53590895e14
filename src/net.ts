/**
 * TCP entry points: `connect` (the handshake client) and `createServer` (the handshake server).
 * Each connection is independent (SPEC 3), so servers scale out behind any TCP load balancer.
 */
import { createConnection, Server, type Socket } from 'node:net'
import type { KeyObject } from 'node:crypto'
import { ClientHandshake, type ClientIdentityOptions } from './handshake/client.js'
import { AuthorizedKeys, ServerHandshake, type ServerIdentityOptions } from './handshake/server.js'
import { SecureStream, peerAddress, type SessionOptions } from './session.js'
import { NetworkError, SecurePipeError, TimeoutError, TruncatedError, toNetworkError } from './errors.js'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './constants.js'
import { Admission, type MaxStartups, type Outcome, type SourceLimits } from './server/admission.js'
import { FirstFrame, HELD_LIMIT } from './server/first-frame.js'
import { ConnectionCaps } from './server/caps.js'
import { ReplayCache } from './server/replay.js'
import { FailureSummary, type FailureReport } from './server/summary.js'

/** What `connect` needs: where to connect, this client's key, the pinned server key, and the session options. */
export interface ConnectOptions extends SessionOptions, ClientIdentityOptions {
  /** The server's host name or address (default 127.0.0.1). */
  host?: string
  /** The server's TCP port. */
  port: number
}

/**
 * Connect and complete the handshake; resolves with the secure stream.
 *
 * @example
 *   const s = await connect({ host: '127.0.0.1', port: 7070, privateKey, serverPublicKey })
 */
export async function connect(opts: ConnectOptions): Promise<SecureStream> {
  // Options are checked here, before any socket exists (TypeError/RangeError naming the option).
  const machine = new ClientHandshake({ privateKey: opts?.privateKey, serverPublicKey: opts.serverPublicKey, ...(opts.ciphers ? { ciphers: opts.ciphers } : {}) })
  return await new Promise((resolve, reject) => {
    const socket = createConnection({ host: opts.host ?? '127.0.0.1', port: opts.port, allowHalfOpen: true })
    socket.setNoDelay(true)
    const stream = new SecureStream(socket, machine, opts)
    const onError = (err: Error): void => reject(err instanceof SecurePipeError ? err : toNetworkError(err))
    stream.once('error', onError)
    stream.once('secure', () => {
      stream.off('error', onError)
      resolve(stream)
    })
  })
}

/** What `createServer` needs: the server's key(s), the authorized client keys and/or an authorize callback, limits, and the session options. */
export interface ServerOptions extends SessionOptions, Omit<ServerIdentityOptions, 'authorizedKeys'> {
  /**
   * Client public keys allowed to connect (optional when `authorize` is given), or a function
   * returning them, called as each connection's handshake starts (as sshd reads authorized_keys
   * per connection), so a revoked key is refused from the next connection on; sessions already
   * open continue. Returning the same array as last time reuses its index. A function that
   * throws refuses every key of that connection (fail closed), with its error as the cause.
   */
  authorizedKeys?: readonly KeyObject[] | (() => readonly KeyObject[])
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
  /** Per source (an IPv4 /24 or IPv6 /64 by default): handshakes at once, waiting, the budget of handshakes without success, penalties (SPEC 7.3, docs/operations.md). */
  perSource?: SourceLimits
  /** sshd-style random early drop over unauthenticated connections (default full maxHandshakes + maxWaiting, start the lesser of 512 and full, rate 30). */
  maxStartups?: MaxStartups
  /** Most established (authenticated) connections at once (default 1024); beyond it new connections are closed unread. */
  maxConnections?: number
  /** Most established connections per client key (default 256); beyond it the new session is closed after its handshake. */
  maxConnectionsPerKey?: number
  /** Failed handshakes are reported per source once per interval of this many ms (default 10 000); see `'handshakeFailures'`. */
  failureSummaryMs?: number
}

/**
 * A `net.Server` that runs the handshake on each connection and hands each secure stream to
 * `onStream`. Emits `'handshakeError'(err, remoteAddress)` for each connection that fails before
 * that, and `'handshakeFailures'(report)` with the same failures summarized per source for logs
 * (src/server/summary.ts). Admission (src/server/admission.ts) decides which connections get a
 * handshake slot.
 *
 * @example
 *   createServer({ privateKey, authorizedKeys }, s => s.pipe(process.stdout)).listen(7070, '127.0.0.1')
 */
export class SecureServer extends Server {
  readonly #opts: ServerOptions
  readonly #authorized: () => AuthorizedKeys | Error
  readonly #admission: Admission<Socket>
  readonly #established: ConnectionCaps
  readonly #failures: FailureSummary
  /** Issue 8.5: an exact replay of a recent ClientHello is refused before any RSA work. */
  readonly #replays = new ReplayCache()
  readonly #timeoutMs: number
  /** Waiting connections: stop waiting (listeners, timer) and take the bytes held. */
  readonly #held = new Map<Socket, () => Buffer>()

  constructor(opts: ServerOptions, onStream?: (s: SecureStream) => void) {
    super({ allowHalfOpen: true, pauseOnConnect: true })
    this.#opts = opts
    this.#authorized = authorizedLookup(opts.authorizedKeys)
    // Checks every identity option now, not at the first connection.
    this.#handshake(null)
    this.#admission = new Admission({ maxHandshakes: opts.maxHandshakes ?? 64, maxWaiting: opts.maxWaiting ?? 1024, perSource: opts.perSource, maxStartups: opts.maxStartups })
    this.#established = new ConnectionCaps(opts.maxConnections ?? 1024, opts.maxConnectionsPerKey ?? 256)
    this.#failures = new FailureSummary(opts.failureSummaryMs ?? 10_000, r => this.emit('handshakeFailures', r))
    this.#timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    if (onStream) this.on('secureConnection', onStream)
    this.on('connection', (socket: Socket) => this.#arrive(socket))
    this.on('close', () => this.#failures.flush())
  }

  /** Connections in the handshake now, and waiting for a slot. */
  get handshakes(): { active: number, waiting: number } {
    return { active: this.#admission.active, waiting: this.#admission.waiting }
  }

  /** Established (authenticated) connections now. */
  get established(): number {
    return this.#established.total
  }

  #arrive(socket: Socket): void {
    const source = this.#admission.sourceOf(socket.remoteAddress)
    const address = peerAddress(socket)
    const full = this.#established.refusal(address)
    const arrival = full ? { refusal: full } : this.#admission.arrive(source, socket, address)
    if (arrival.refusal) return this.#refuse(socket, source, address, arrival.refusal) // the cheapest path: a flood takes it
    if (arrival.evicted) this.#refuse(arrival.evicted.item, arrival.evicted.source, peerAddress(arrival.evicted.item), arrival.evicted.refusal)
    socket.setNoDelay(true)
    socket.on('error', () => {}) // reported through the secure stream
    this.#wait(socket, source, address)
  }

  /**
   * Until its handshake starts, a connection is read but not parsed (src/server/first-frame.ts):
   * it asks for a slot once its first frame is whole, so a socket that sends nothing never holds
   * one, and reading it notices at once a peer that closes while it waits. It waits at most one
   * handshake timeout (one without its first frame penalizes its source), then gets a full one
   * for its handshake: a slot held by a stalled peer frees before the peers queued behind it give up.
   */
  #wait(socket: Socket, source: string, address: string): void {
    const first = new FirstFrame()
    const onData = (chunk: Buffer): void => {
      if (first.add(chunk) && this.#admission.ready(socket)) this.#startNext()
      if (first.bytes > HELD_LIMIT) socket.pause() // decidable already: the handshake reads the rest
    }
    const onEnd = (): void => {
      if (!this.#admission.withdraw(socket, 'closed')) return
      const [bytes, decidable] = [first.bytes, first.decidable()]
      stop()
      socket.destroy()
      // As the handshake would have said (SPEC 2.3): no work was done, so no budget is spent.
      this.#reportFailure(bytes === 0 ? new NetworkError('the peer closed the connection during the handshake')
        : decidable ? new NetworkError(`the connection from ${address} closed while it waited for a handshake slot (${bytes} bytes read, not parsed)`)
          : new TruncatedError('the connection ended in the middle of a frame: the data is incomplete'), source, address)
    }
    const timer = setTimeout(() => {
      if (!this.#admission.withdraw(socket, 'timeout')) return // it got a slot
      const decidable = first.decidable()
      stop()
      const why = decidable ? `waited ${this.#timeoutMs / 1000} s for a handshake slot (maxHandshakes ${this.#admission.limits.maxHandshakes} busy)` : `sent no whole first message within ${this.#timeoutMs / 1000} s (its source is penalized)`
      this.#refuse(socket, source, address, new TimeoutError(`${why}; the connection from ${address} was closed unread`))
    }, this.#timeoutMs)
    timer.unref()
    const stop = (): Buffer => {
      clearTimeout(timer)
      socket.off('data', onData).off('end', onEnd).off('close', onEnd)
      this.#held.delete(socket)
      return first.take()
    }
    this.#held.set(socket, stop)
    socket.on('data', onData).once('end', onEnd).once('close', onEnd)
    socket.resume()
  }

  /** Close unread and report: no byte of it was parsed, no RSA work done. */
  #refuse(socket: Socket, source: string, address: string, err: SecurePipeError): void {
    this.#held.get(socket)?.() // a waiting one stops waiting
    socket.destroy()
    this.#reportFailure(err, source, address)
  }

  #reportFailure(err: Error, source: string, address: string): void {
    this.emit('handshakeError', err, address)
    this.#failures.add(source, address, err)
  }

  #startNext(): void {
    for (let next = this.#admission.next(); next; next = this.#admission.next()) {
      if (!next.refusal) return this.#start(next.item, next.source)
      this.#refuse(next.item, next.source, peerAddress(next.item), next.refusal)
    }
  }

  #handshake(remoteAddress: string | null): ServerHandshake {
    const { privateKey, ciphers } = this.#opts
    const listed = this.#authorized()
    if (listed instanceof Error && remoteAddress === null) throw listed // createServer checks the lookup once
    // Issue 17 section 2: a lookup that fails, or that revocation emptied, refuses keys in the
    // handshake (ERR_AUTH, alert 1) rather than failing the server; a failed lookup fails closed.
    const emptied = !(listed instanceof Error) && listed.size === 0 && typeof this.#opts.authorizedKeys === 'function'
    const authorize = listed instanceof Error ? () => { throw listed } : this.#opts.authorize ?? (emptied ? () => false : undefined)
    return new ServerHandshake({
      privateKey, authorizedKeys: listed instanceof Error ? [] : listed, replayCheck: r => this.#replays.fresh(r),
      ...(authorize ? { authorize } : {}), ...(ciphers ? { ciphers } : {}), ...(remoteAddress ? { remoteAddress } : {}),
    })
  }

  #start(socket: Socket, source: string): void {
    socket.pause()
    const held = this.#held.get(socket)!()
    if (held.length > 0) socket.unshift(held) // the handshake reads what was held first
    const machine = this.#handshake(peerAddress(socket))
    const stream = new SecureStream(socket, machine, this.#opts)
    let released = false
    const release = (outcome: Outcome): void => {
      if (released) return
      released = true
      this.#admission.finished(source, outcome)
      this.#startNext()
    }
    const onError = (err: Error): void => {
      // SPEC 13.5: the slot bounds work, not sockets: it frees when the step the peer started
      // (RSA on the thread pool, authorize) has ended, or after one more handshake timeout.
      // A handshake that timed out held its slot idle: its source is penalized (SPEC 7.3).
      const outcome = err instanceof TimeoutError ? 'timeout' : 'failed'
      const deadline = setTimeout(() => release(outcome), this.#timeoutMs)
      deadline.unref()
      void machine.idle.then(() => { clearTimeout(deadline); release(outcome) })
      this.#reportFailure(err, source, stream.remoteAddress)
    }
    stream.once('error', onError)
    stream.once('secure', () => {
      release('secure')
      stream.off('error', onError)
      const refusal = this.#established.add(stream)
      if (!refusal) return void this.emit('secureConnection', stream)
      stream.destroy()
      this.#reportFailure(refusal, source, stream.remoteAddress)
    })
    socket.resume()
  }
}

/**
 * `ServerOptions.authorizedKeys` as a per-connection lookup: a list is indexed once; a function is
 * called each time, and its result indexed again only when it is a different array. An error the
 * function throws is returned, for the handshake to refuse with.
 */
function authorizedLookup(option: ServerOptions['authorizedKeys']): () => AuthorizedKeys | Error {
  if (typeof option !== 'function') {
    const fixed = new AuthorizedKeys(option ?? [])
    return () => fixed
  }
  let last: readonly KeyObject[] | undefined
  let indexed: AuthorizedKeys | undefined
  return () => {
    try {
      const keys = option()
      if (keys !== last || !indexed) { indexed = new AuthorizedKeys(keys); last = keys }
      return indexed
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err))
    }
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

/** Typed events (issue 12); the `net.Server` events ('listening', 'close', 'error', ...) keep theirs. */
export interface SecureServer {
  on(event: 'secureConnection', listener: (stream: SecureStream) => void): this
  on(event: 'handshakeError', listener: (err: SecurePipeError, remoteAddress: string) => void): this
  on(event: 'handshakeFailures', listener: (report: FailureReport) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'secureConnection', listener: (stream: SecureStream) => void): this
  once(event: 'handshakeError', listener: (err: SecurePipeError, remoteAddress: string) => void): this
  once(event: 'handshakeFailures', listener: (report: FailureReport) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}
