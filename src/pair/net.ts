/**
 * `secure-pipe pair` over TCP (SPEC 14): `listenPair` (R) prints a one-time code and serves one
 * attempt; `pairWith` (S) connects with the code. The listener:
 *
 * - holds the code for `codeTtlMs` and for ONE attempt: the first well-formed HELLO claims it,
 *   whatever the outcome; every later HELLO (and any after expiry) gets ABORT(used), ERR_AUTH;
 * - reserves a token of a per-source budget (server/budget.ts, the handshake's) for every
 *   connection before reading it, given back only when the pairing succeeds; a source with none left is closed unread;
 * - bounds each connection by `handshakeTimeoutMs` and its frames by PAIR_FRAME_LIMIT.
 *
 * Writes: R records S's key only after cA verified, then sends DONE; S records R's key only
 * after DONE verified (SPEC 14.6). Any failure before that writes nothing on either side.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { AuthError, NetworkError, SecurePipeError, TimeoutError, toNetworkError } from '../errors.js'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../constants.js'
import type { KeyHome } from '../keys/home.js'
import type { RandomSource } from '../crypto/random.js'
import { FailureBudget } from '../server/budget.js'
import { sourceOf } from '../server/admission.js'
import { ChannelClosed, FrameChannel } from './channel.js'
import { newPairingCode, normalizeCode } from './code.js'
import { pairPassword, PairReceiver, PairSender, type PeerIdentity } from './exchange.js'
import { encodeAbort, isPairMessage, PAIR_ABORT, PAIR_MSG, type PairAbortReason } from './messages.js'
import { checkLists, ownIdLine, recordAuthorized, recordPin, type WrittenLine } from './record.js'

/** How long a code stays valid by default (SPEC 14.1). */
export const DEFAULT_CODE_TTL_MS = 5 * 60_000
/** Per source: failed connections in a burst, and refilled per second (SPEC 14.6). */
export const PAIR_FAILURE_BURST = 8
export const PAIR_FAILURES_PER_SECOND = 0.5
/** Connections the listener holds at once; beyond it new ones are closed unread. */
export const PAIR_MAX_CONNECTIONS = 16

/** What a pairing recorded: the peer, and the exact lines written (file and line). */
export interface PairResult {
  peer: { fingerprint: string, comment: string }
  bothWays: boolean
  written: WrittenLine[]
}

/** What `listenPair` needs: the key home, where to listen, and limits (test seams last). */
export interface ListenPairOptions {
  home: KeyHome
  host?: string
  port: number
  /** The code's lifetime (default 5 minutes). */
  codeTtlMs?: number
  /** Deadline of each connection, from its first byte to DONE (default 10 s). */
  handshakeTimeoutMs?: number
  /** Per-source failure budget (default 8, then 0.5 a second). */
  failureBurst?: number
  failuresPerSecond?: number
  /** Test seams: a fixed code (vectors, tests), fixed randomness for SPAKE2. */
  code?: string
  random?: RandomSource
}

/** A running `pair --listen`: the code, the bound address, the outcome, and close(). */
export interface PairListener {
  readonly code: string
  readonly address: AddressInfo
  /** Settles once: the first attempt's outcome, or ERR_AUTH when the code expires unused. */
  readonly result: Promise<PairResult>
  /** Later connections are refused with ABORT(used) until this. */
  close(): Promise<void>
}

/** Start listening for one pairing attempt (R). */
export async function listenPair(opts: ListenPairOptions): Promise<PairListener> {
  const idLine = ownIdLine(opts.home)
  checkLists(opts.home)
  const code = opts.code !== undefined ? normalizeCode(opts.code) : newPairingCode()
  const password = await pairPassword(code)
  const timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
  const budget = new FailureBudget(opts.failureBurst ?? PAIR_FAILURE_BURST, opts.failuresPerSecond ?? PAIR_FAILURES_PER_SECOND)
  let state: 'open' | 'claimed' | 'spent' = 'open'
  let settle: { resolve: (r: PairResult) => void, reject: (e: Error) => void } | undefined
  const result = new Promise<PairResult>((resolve, reject) => { settle = { resolve, reject } })
  result.catch(() => {}) // the owner awaits it; an unawaited failure is not unhandled
  const end = (outcome: PairResult | Error): void => {
    state = 'spent'
    clearTimeout(expiry)
    if (outcome instanceof Error) settle!.reject(outcome)
    else settle!.resolve(outcome)
  }
  const expiry = setTimeout(() => {
    if (state === 'open') end(new AuthError(`the pairing code expired after ${Math.round((opts.codeTtlMs ?? DEFAULT_CODE_TTL_MS) / 1000)} s unused: run \`secure-pipe pair --listen\` again for a new code`))
  }, opts.codeTtlMs ?? DEFAULT_CODE_TTL_MS)
  expiry.unref()

  const sockets = new Set<Socket>()
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, socket => {
    const source = sourceOf(socket.remoteAddress)
    // Checked before a byte is read: a full listener, or a source out of budget, costs nothing.
    // The token is reserved now (issue 17 section 1) and given back only by a pairing that succeeds.
    if (sockets.size >= PAIR_MAX_CONNECTIONS || !budget.take(source)) {
      socket.destroy()
      return
    }
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.resume()
    const channel = new FrameChannel(socket, timeoutMs, `pairing from ${socket.remoteAddress}`)
    serve(channel, source).catch(() => {})
  })

  async function serve(channel: FrameChannel, source: string): Promise<void> {
    let first: Buffer
    try {
      first = await channel.next()
    } catch {
      channel.socket.destroy() // silence, a cut, an oversized frame: not an attempt; its token stays spent
      return
    }
    if (!isPairMessage(first) || first[5] !== PAIR_MSG.hello) {
      channel.finish(encodeAbort(PAIR_ABORT.malformed))
      return
    }
    if (state !== 'open') {
      channel.finish(encodeAbort(PAIR_ABORT.used))
      return
    }
    state = 'claimed' // the one attempt: whatever follows, the code is spent
    const outcome = await attempt(channel, first)
    if (!(outcome instanceof Error)) budget.refund(source)
    end(outcome)
  }

  async function attempt(channel: FrameChannel, hello: Buffer): Promise<PairResult | Error> {
    const machine = new PairReceiver({ password, idLine, ...(opts.random ? { random: opts.random } : {}) })
    let reason: PairAbortReason = PAIR_ABORT.auth
    try {
      channel.send(machine.onHello(hello))
      const peer = machine.onConfirm(await channel.next())
      reason = PAIR_ABORT.record
      const written = [recordAuthorized(opts.home, peer)]
      if (machine.bothWays) written.push(recordPin(opts.home, peerHost(channel.socket), peer))
      channel.finish(machine.done())
      return { peer: summary(peer), bothWays: machine.bothWays, written }
    } catch (err) {
      machine.wipe()
      channel.finish(encodeAbort(reason))
      return reason === PAIR_ABORT.record ? asError(err) : attemptError(err, 'the sender')
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', err => reject(toNetworkError(err)))
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve())
  })
  server.on('error', () => {}) // after listen: per-connection errors are handled per socket
  return {
    code,
    address: server.address() as AddressInfo,
    result,
    close: () => new Promise<void>(resolve => {
      clearTimeout(expiry)
      if (state === 'open') end(new AuthError('the pairing listener was closed before anyone paired'))
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}

/** What `pairWith` needs: the key home, the listener's address, the code and what to pin it as. */
export interface PairWithOptions {
  home: KeyHome
  host: string
  port: number
  /** The code as typed; normalized (a malformed code is ERR_USAGE before any connection). */
  code: string
  /** The pin's target: HOST or HOST:PORT, as `send --connect` will name the listener. */
  pinAs: string
  /** Both ways: also authorize the listener's key here (and it pins ours). */
  bothWays?: boolean
  /** Deadline from connect to DONE (default 10 s). */
  handshakeTimeoutMs?: number
  random?: RandomSource
}

/** Pair with a listener (S). */
export async function pairWith(opts: PairWithOptions): Promise<PairResult> {
  const code = normalizeCode(opts.code)
  const idLine = ownIdLine(opts.home)
  checkLists(opts.home)
  const password = await pairPassword(code)
  const bothWays = opts.bothWays === true
  const machine = new PairSender({ password, idLine, bothWays, ...(opts.random ? { random: opts.random } : {}) })
  const socket = createConnection({ host: opts.host, port: opts.port, allowHalfOpen: true })
  const channel = new FrameChannel(socket, opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, `pairing with ${opts.host}:${opts.port}`)
  let answered = false
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    channel.send(machine.hello())
    const reply = await channel.next()
    answered = true
    channel.send(machine.onReply(reply))
    const peer = machine.onDone(await channel.next())
    channel.finish()
    const written = [recordPin(opts.home, opts.pinAs, peer)]
    if (bothWays) written.push(recordAuthorized(opts.home, peer))
    return { peer: summary(peer), bothWays, written }
  } catch (err) {
    machine.wipe()
    channel.finish(err instanceof AuthError ? encodeAbort(PAIR_ABORT.auth) : undefined)
    if (!answered && !(err instanceof SecurePipeError && err.code === 'ERR_AUTH')) {
      if (err instanceof ChannelClosed) throw new NetworkError(`${opts.host}:${opts.port} closed the connection without answering: is \`secure-pipe pair --listen\` running there (and has this address not failed too often)?`, { cause: err })
      throw asError(err)
    }
    throw attemptError(err, 'the listener')
  }
}

/** Any failure once the attempt started ends the code: ERR_AUTH, with what happened. */
function attemptError(err: unknown, peer: string): AuthError {
  if (err instanceof AuthError) return err
  if (err instanceof TimeoutError) return new AuthError(`${err.message}; the code is used up: run \`secure-pipe pair --listen\` again for a new one`, { cause: err })
  if (err instanceof ChannelClosed) return new AuthError(`${peer} ended the pairing before key confirmation completed (a wrong code, or the other side failed); nothing was recorded here`, { cause: err })
  return new AuthError(`the pairing failed: ${(err as Error)?.message ?? String(err)}; nothing was recorded here`, { cause: err })
}

function asError(err: unknown): SecurePipeError {
  return err instanceof SecurePipeError ? err : toNetworkError(err)
}

function summary(peer: PeerIdentity): PairResult['peer'] {
  return { fingerprint: peer.fingerprint, comment: peer.comment }
}

/** The sender's address as R will later connect to it: the IP, without port (IPv4-mapped unwrapped). */
function peerHost(socket: Socket): string {
  return (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
}
