/**
 * Tunnels (issue 20, SPEC 15): one secure session joined to one TCP connection, both ways,
 * until both directions have closed. The server side (`serveTunnel`) opens the connection to
 * its own fixed target only once the session is authenticated (it runs on `'secureConnection'`),
 * answers with one status message, then joins; the client side (`joinTunnel`) reads that status
 * and joins the session to a local socket or to stdin/stdout. Each direction is one `pipeline`,
 * so a slow reader stalls the writer through TCP flow control (SPEC 7.2) and half-close works
 * as on a TCP socket: a close record ends the peer's sending half (SPEC 6.3).
 *
 * @example
 *   createServer({ privateKey, authorizedKeys }, s => void serveTunnel(s, { host: '127.0.0.1', port: 22 }).then(log))
 *   const report = await joinTunnel(await connect(opts), socket, socket)
 */
import { createConnection } from 'node:net'
import { pipeline, type Readable, type Writable } from 'node:stream'
import { NetworkError, ProtocolError, SecurePipeError, TimeoutError, TruncatedError, toNetworkError } from './errors.js'
import type { SecureStream } from './session.js'
import { ByteQueue } from './transfer/bytes.js'

/** SPEC 15.2: `'SPTN' || version (1) = 1 || status (1) || reason length (2) || reason (UTF-8)`. */
export const TUNNEL_MAGIC = Buffer.from('SPTN', 'ascii')
const TUNNEL_VERSION = 1
const HEADER = 8
/** SPEC 15.2: a reason is at most this many bytes. */
export const MAX_TUNNEL_REASON = 1024
/** Default deadline for the TCP connection to the target (ms). */
export const DEFAULT_TARGET_TIMEOUT_MS = 10_000
/** Default deadline for the server's status, counted from the end of the handshake (ms). */
export const DEFAULT_STATUS_TIMEOUT_MS = 30_000

/** SPEC 15.2: the target answered (`ok`), or it did not and `reason` says why, naming it. */
export type TunnelStatus = { ok: true } | { ok: false, reason: string }

/** The status message the server sends first in its direction (SPEC 15.2). */
export function encodeTunnelStatus(status: TunnelStatus): Buffer {
  const reason = status.ok ? Buffer.alloc(0) : truncateUtf8(status.reason, MAX_TUNNEL_REASON)
  const head = Buffer.alloc(HEADER)
  TUNNEL_MAGIC.copy(head, 0)
  head[4] = TUNNEL_VERSION
  head[5] = status.ok ? 0 : 1
  head.writeUInt16BE(reason.length, 6)
  return Buffer.concat([head, reason])
}

/** Take the status from the front of `q` once it is whole (null until then); a malformed one is `ERR_PROTOCOL`. */
export function takeTunnelStatus(q: ByteQueue): TunnelStatus | null {
  if (q.length === 0) return null
  const head = q.peek(Math.min(q.length, HEADER))
  if (head && !TUNNEL_MAGIC.subarray(0, Math.min(head.length, 4)).equals(head.subarray(0, 4))) {
    throw new ProtocolError('the server did not answer as a tunnel (SPEC 15.2): it is not running `secure-pipe serve`')
  }
  if (!head || head.length < HEADER) return null
  if (head[4] !== TUNNEL_VERSION) throw new ProtocolError(`the server speaks tunnel version ${head[4]}; this one speaks ${TUNNEL_VERSION} (SPEC 15.2)`)
  const status = head[5]!
  const length = head.readUInt16BE(6)
  if (status > 1 || length > MAX_TUNNEL_REASON || (status === 0 && length !== 0)) throw new ProtocolError('the server sent a malformed tunnel status (SPEC 15.2)')
  const whole = q.take(HEADER + length)
  if (!whole) return null
  if (status === 0) return { ok: true }
  let reason: string
  try {
    reason = new TextDecoder('utf-8', { fatal: true }).decode(whole.subarray(HEADER))
  } catch (err) {
    throw new ProtocolError('the server sent a tunnel status whose reason is not UTF-8 (SPEC 15.2)', { cause: err })
  }
  return { ok: false, reason }
}

/** What one tunnelled connection did, for its log line. */
export interface TunnelReport {
  /** `SHA256:...` of the peer's key. */
  peer: string | null
  /** Plaintext bytes from the client side towards the target, and back. */
  bytesUp: number
  bytesDown: number
  durationMs: number
  /** `closed` (both directions ended by their close), `target failed`, `client left` (before the target answered), or the error's code. */
  ended: string
  error?: SecurePipeError
}

/** Options of `serveTunnel`. */
export interface ServeTunnelOptions {
  /** Deadline for the TCP connection to the target (default 10 s). */
  targetTimeoutMs?: number
}

/** Where a server's tunnels go: its own choice (SPEC 15.1). */
export interface TunnelTarget { host: string, port: number }

/**
 * Server side: connect to `target` (the server's choice; nothing the client sent is read
 * before), send the status (SPEC 15.2), join. A target that refuses or does not answer ends the
 * session with a failed status naming it; the promise never rejects.
 */
export async function serveTunnel(stream: SecureStream, target: TunnelTarget, opts: ServeTunnelOptions = {}): Promise<TunnelReport> {
  stream.allowHalfOpen = true // SPEC 15.3: each direction ends on its own; the target's answer follows the client's end
  const startedAt = performance.now()
  const name = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
  const timeoutMs = opts.targetTimeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS
  const socket = createConnection({ host: target.host, port: target.port, allowHalfOpen: true })
  socket.setNoDelay(true)
  const failure = await new Promise<string | null>(resolve => {
    const timer = setTimeout(() => resolve(`no answer from ${name} within ${timeoutMs / 1000} s`), timeoutMs)
    const settle = (result: string | null): void => { clearTimeout(timer); socket.off('connect', onConnect).off('error', onError); stream.off('close', onGone); resolve(result) }
    const onConnect = (): void => settle(null)
    const onError = (err: NodeJS.ErrnoException): void => settle(`connecting to ${name} failed: ${targetProblem(err)}`)
    const onGone = (): void => settle('the client left before the target answered')
    socket.once('connect', onConnect).once('error', onError)
    stream.once('close', onGone)
  })
  if (failure !== null) {
    socket.destroy()
    const left = stream.destroyed
    const error = left ? (stream.errored instanceof SecurePipeError ? stream.errored : new NetworkError(failure)) : new NetworkError(failure)
    if (!left) await endWith(stream, encodeTunnelStatus({ ok: false, reason: failure }), timeoutMs)
    return { peer: stream.peerFingerprint, bytesUp: 0, bytesDown: 0, durationMs: performance.now() - startedAt, ended: left ? 'client left' : 'target failed', error }
  }
  socket.on('error', () => {}) // reported through the pipelines
  stream.write(encodeTunnelStatus({ ok: true }))
  return join(stream, socket, socket, startedAt, 'down')
}

/** Options of `joinTunnel`. */
export interface JoinTunnelOptions {
  /** Deadline for the server's status (default 30 s). */
  statusTimeoutMs?: number
}

/**
 * Client side: `input` goes to the server at once (client-first protocols need no extra round
 * trip; the server reads it only after its target answered), the server's status is checked,
 * then the rest goes to `output`. A failed status rejects with `ERR_NETWORK` carrying the
 * server's reason (it names the target); everything else resolves with the report.
 */
export async function joinTunnel(stream: SecureStream, input: Readable, output: Writable, opts: JoinTunnelOptions = {}): Promise<TunnelReport> {
  stream.allowHalfOpen = true // SPEC 15.3: the server's answer may follow the end of our input
  const startedAt = performance.now()
  let status: { status: TunnelStatus, rest: Buffer }
  try {
    status = await readStatus(stream, opts.statusTimeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS)
  } catch (err) {
    stream.destroy()
    throw err
  }
  if (!status.status.ok) {
    stream.destroy()
    throw new NetworkError(`the server could not open its target: ${status.status.reason}`)
  }
  if (status.rest.length > 0) output.write(status.rest)
  return join(stream, input, output, startedAt, 'up', status.rest.length)
}

/** Read the status from the front of the server's direction, within `timeoutMs`; the bytes after it are returned. */
function readStatus(stream: SecureStream, timeoutMs: number): Promise<{ status: TunnelStatus, rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const q = new ByteQueue()
    const timer = setTimeout(() => done(new TimeoutError(`the server did not say within ${timeoutMs / 1000} s whether its target answered`)), timeoutMs)
    const done = (err: Error | null, status?: TunnelStatus): void => {
      clearTimeout(timer)
      stream.off('readable', onReadable).off('end', onEnd).off('error', done)
      if (err) reject(beforeStatus(err))
      else resolve({ status: status!, rest: q.drain() })
    }
    const onReadable = (): void => {
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        q.push(chunk)
        let status: TunnelStatus | null
        try { status = takeTunnelStatus(q) } catch (err) { return done(err as Error) }
        if (status) return done(null, status)
      }
    }
    const onEnd = (): void => done(new ProtocolError('the server closed the tunnel before saying whether its target answered (SPEC 15.2)'))
    stream.on('readable', onReadable).once('end', onEnd).once('error', done)
    onReadable()
  })
}

/**
 * A session cut before the status: the server's caps (7.3) close a session over them right
 * after its handshake, without a message; say so rather than only "truncated".
 */
function beforeStatus(err: Error): SecurePipeError {
  const e = err instanceof SecurePipeError ? err : toNetworkError(err)
  if (e.code !== 'ERR_TRUNCATED' && e.code !== 'ERR_NETWORK') return e
  const message = `the server closed the session before its tunnel status (SPEC 15.2): it may be at its limit of tunnels for this key or in total, or stopping; its log says which (${e.message})`
  return e.code === 'ERR_TRUNCATED' ? new TruncatedError(message, { cause: e }) : new NetworkError(message, { cause: e })
}

/**
 * Both directions, each one `pipeline`; resolves when both have ended (or either failed, which
 * tears down both). `plain` direction: `up` when `input` is the client's side, `down` when it is the target.
 */
function join(stream: SecureStream, input: Readable, output: Writable, startedAt: number, inputIs: 'up' | 'down', already = 0): Promise<TunnelReport> {
  let fromInput = 0
  let fromStream = already
  input.on('data', (c: Buffer) => { fromInput += c.length })
  stream.on('data', (c: Buffer) => { fromStream += c.length })
  return new Promise(resolve => {
    let pending = 2
    let error: SecurePipeError | undefined
    const finish = (err?: Error | null): void => {
      if (err && !error) {
        error = err instanceof SecurePipeError ? err : toNetworkError(err)
        // SPEC 15.3: at the client, a cut server direction is the server's idle timeout, a reset target, a stopped server or the network.
        if (error.code === 'ERR_TRUNCATED' && inputIs === 'up') error = new TruncatedError('the tunnel was cut without its close record (the server\'s idle timeout or drain, its target reset, or the network); what arrived is all there is', { cause: error })
        stream.destroy()
        input.destroy()
        output.destroy()
      }
      if (--pending > 0) return
      stream.destroy() // both directions ended: free its transport (SPEC 6.4: the transport's own end may never come)
      resolve({
        peer: stream.peerFingerprint,
        bytesUp: inputIs === 'up' ? fromInput : fromStream,
        bytesDown: inputIs === 'up' ? fromStream : fromInput,
        durationMs: performance.now() - startedAt,
        ended: error ? error.code : 'closed',
        ...(error ? { error } : {}),
      })
    }
    pipeline(input, stream, finish)
    pipeline(stream, output, finish)
  })
}

/** End the session with `last`, waiting at most `timeoutMs` for it to leave, then tear down. */
async function endWith(stream: SecureStream, last: Buffer, timeoutMs: number): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(resolve, timeoutMs)
    stream.end(last, () => { clearTimeout(timer); resolve() })
    stream.once('close', () => { clearTimeout(timer); resolve() })
  })
  stream.destroy()
}

/** A target's socket error as words, with the errno code for searching. */
function targetProblem(err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (nothing listens there)',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'timed out',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed',
  }
  const code = err.code ?? 'error'
  return `${words[code] ?? err.message} (${code})`
}

/** At most `limit` bytes of `text`'s UTF-8, cut on a character boundary. */
function truncateUtf8(text: string, limit: number): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= limit) return bytes
  let end = limit
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}
