/**
 * One error family for everything secure-pipe reports (SPEC 9).
 * Each failure is a `SecurePipeError` with a stable `code`; tests assert the code, never the message.
 *
 * @example
 *   try { await connect(opts) } catch (e) { if (e instanceof SecurePipeError && e.code === 'ERR_AUTH') ... }
 */
export type ErrorCode =
  | 'ERR_AUTH'
  | 'ERR_INTEGRITY'
  | 'ERR_TRUNCATED'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_VERSION'
  | 'ERR_TIMEOUT'
  | 'ERR_KEY'
  | 'ERR_RECEIPT'
  | 'ERR_NETWORK'
  | 'ERR_IO'
  | 'ERR_USAGE'
  | 'ERR_PROTOCOL'

/** The base of every error secure-pipe reports: `code` is stable, `message` says what to do. */
export class SecurePipeError extends Error {
  /** Stable and documented; match on it, never on the message. */
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** The server could not prove it holds the pinned key, or the client is not authorized (SPEC 3). */
export class AuthError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_AUTH', message, options) }
}
/** A record failed its tag, separators or length check (SPEC 5.4). Deliberately unspecific. */
export class IntegrityError extends SecurePipeError {
  constructor(message = 'a record failed authentication: the data was altered, replayed, reordered or cut; nothing from it was released', options?: { cause?: unknown }) {
    super('ERR_INTEGRITY', message, options)
  }
}
/** The stream ended before its authenticated end (SPEC 2.3, 6). */
export class TruncatedError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_TRUNCATED', message, options) }
}
/** A frame declared a length above the limit (SPEC 2.2). */
export class FrameTooLargeError extends SecurePipeError {
  constructor(limit: number, options?: { cause?: unknown }) {
    super('ERR_FRAME_TOO_LARGE', `the peer sent a frame larger than the ${limit}-byte limit; it is not speaking secure-pipe or the stream is corrupt`, options)
  }
}
/** Magic, version or cipher negotiation failed (SPEC 3.2). */
export class VersionError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_VERSION', message, options) }
}
/** The handshake or an idle connection exceeded its time limit (SPEC 7). */
export class TimeoutError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_TIMEOUT', message, options) }
}
/** A key file is missing, unreadable, encrypted, of the wrong type or size. */
export class KeyError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_KEY', message, options) }
}
/** The delivery receipt did not match what was sent (SPEC 8). */
export class ReceiptError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_RECEIPT', message, options) }
}
/** The connection was refused, reset or closed by the network layer. */
export class NetworkError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_NETWORK', message, options) }
}
/** A local file could not be read or written. */
export class IoError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_IO', message, options) }
}
/** Bad command-line usage. */
export class UsageError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_USAGE', message, options) }
}

/** A transfer message broke SPEC 8: a refused name, type, mode or limit, a wrong plan, data after the last entry. */
export class ProtocolError extends SecurePipeError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_PROTOCOL', message, options) }
}

/** CLI exit codes, one table (README "Exit codes"). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  ERR_USAGE: 2,
  ERR_KEY: 2,
  ERR_IO: 2,
  ERR_AUTH: 3,
  ERR_VERSION: 3,
  ERR_INTEGRITY: 4,
  ERR_TRUNCATED: 4,
  ERR_FRAME_TOO_LARGE: 4,
  ERR_RECEIPT: 4,
  ERR_PROTOCOL: 4,
  ERR_NETWORK: 5,
  ERR_TIMEOUT: 5,
}

/** Translate a socket-level error (ECONNREFUSED, ECONNRESET, EPIPE...) into a NetworkError. */
export function toNetworkError(err: unknown): SecurePipeError {
  if (err instanceof SecurePipeError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ECONNREFUSED': return new NetworkError('connection refused: is the receiver listening on that address and port?', { cause: err })
    case 'ECONNRESET': case 'EPIPE': return new NetworkError('the connection was reset by the peer before the transfer completed', { cause: err })
    case 'ETIMEDOUT': return new NetworkError('the connection timed out', { cause: err })
    case 'EADDRINUSE': return new NetworkError('the address is already in use: pick another port or stop the other listener', { cause: err })
    case 'ENOTFOUND': case 'EAI_AGAIN': return new NetworkError('the host name could not be resolved', { cause: err })
    default: return new NetworkError(`network error: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
}
