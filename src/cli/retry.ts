/**
 * `send --retry N` (issue 19 §3): which failures another attempt can cure, and how long to wait
 * before it. A network failure, a timeout or a cut is retried; anything the peer or this
 * machine decided (a refused key, a bad key file, the command line, the receiver's refusal or
 * its own failure receipt, a tampered record) is not: trying again would give the same answer,
 * or hammer a server that said no. The delay doubles from `--retry-delay` up to
 * MAX_RETRY_DELAY_MS, each wait drawn at random from its upper half (jitter, so many senders
 * cut at once do not come back in step).
 *
 * @example const policy = retryPolicy(args); if (policy.retryable(err, attempt)) await sleep(policy.delayMs(attempt))
 */
import { SecurePipeError, TransferFailedError, UsageError } from '../index.js'
import { seconds } from './options.js'

export const DEFAULT_RETRY_DELAY_MS = 1000
export const MAX_RETRY_DELAY_MS = 30_000
/** A bound on --retry: with the delay cap, at most about 14 hours of trying. */
export const MAX_RETRIES = 1000

/** Failures another attempt may cure: the network, a deadline, a stream cut before its end. */
const RETRYABLE: ReadonlySet<string> = new Set(['ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_TRUNCATED'])

export interface RetryArgs { retry?: number, retryDelay?: number }

export interface RetryPolicy {
  /** Further attempts after the first. */
  readonly retries: number
  /** Whether attempt `attempt` (from 1), which failed with `err`, is followed by another. */
  retryable(err: unknown, attempt: number): boolean
  /** The wait after failed attempt `attempt`, in milliseconds. */
  delayMs(attempt: number, random?: () => number): number
}

export function retryPolicy(args: RetryArgs): RetryPolicy {
  const retries = args.retry ?? 0
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) throw new UsageError(`--retry expects a whole number of further attempts from 0 to ${MAX_RETRIES}`)
  const base = args.retryDelay === undefined ? DEFAULT_RETRY_DELAY_MS : seconds(args.retryDelay, '--retry-delay')
  return {
    retries,
    retryable: (err, attempt) => attempt <= retries && isRetryable(err),
    delayMs: (attempt, random = Math.random) => {
      const ceiling = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.min(attempt - 1, 30))
      return Math.round(ceiling / 2 + random() * (ceiling / 2))
    },
  }
}

/** Never ERR_AUTH, ERR_KEY, ERR_USAGE or a receiver's answer (a refusal or failure receipt, SPEC 8.5.1). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TransferFailedError) return false
  return err instanceof SecurePipeError && RETRYABLE.has(err.code)
}
