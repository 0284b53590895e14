/**
 * The fuzz property (issue 5; SPEC 3, 5, 6), shared by every target: the unmodified input
 * succeeds with exactly the plaintext; anything else ends with a typed SecurePipeError, having
 * released at most a prefix of the plaintext. A plain Error, a TypeError, a hang, or a success
 * on altered input is a failure.
 */
import type { KeyObject } from 'node:crypto'
import { EXIT_CODES, SecurePipeError } from '../../src/errors.js'
import type { Outcome } from '../helpers/streams.js'

export interface FuzzKeys { server: { privateKey: KeyObject, publicKey: KeyObject }, client: { privateKey: KeyObject, publicKey: KeyObject } }

/** SPEC 9: every code there is. */
const CODES: ReadonlySet<string> = new Set(Object.keys(EXIT_CODES))
/** Longest a run may take before it counts as a hang. */
export const RUN_TIMEOUT_MS = 10_000

/** Counts of outcomes per target (`ok` or an error code), for the run's summary. */
export type Stats = Map<string, number>

function bump(stats: Stats | undefined, key: string): void {
  stats?.set(key, (stats.get(key) ?? 0) + 1)
}

/** Throws (failing the property) unless the outcome is what the input deserves. */
export function judge(outcome: Outcome, modified: boolean, plaintext: Buffer, stats?: Stats): void {
  const err = outcome.error
  if (!modified) {
    if (err || !outcome.ended || !outcome.data.equals(plaintext)) throw new Error(`the unmodified sequence failed: ${describeOutcome(outcome)}`)
    bump(stats, 'ok (unmodified)')
    return
  }
  if (!err) {
    // Only a re-encoding of identical frames (a non-minimal varint) may still succeed, with the same plaintext.
    if (!outcome.ended || !outcome.data.equals(plaintext)) throw new Error(`altered input did not fail: ${describeOutcome(outcome)}`)
    bump(stats, 'ok (same frames)')
    return
  }
  if (!(err instanceof SecurePipeError) || !CODES.has(err.code)) throw new Error(`not a typed SecurePipeError: ${describeOutcome(outcome)}`, { cause: err })
  if (outcome.ended) throw new Error(`ended and failed: ${describeOutcome(outcome)}`)
  if (!plaintext.subarray(0, outcome.data.length).equals(outcome.data)) throw new Error(`released bytes that are not a prefix of the plaintext: ${describeOutcome(outcome)}`)
  bump(stats, `${err.code}: ${err.message.replace(/\d+/g, 'N').slice(0, 70)}`)
}

function describeOutcome(o: Outcome): string {
  const e = o.error
  return `${e ? `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}` : 'no error'}, ${o.ended ? 'ended' : 'not ended'}, released ${o.data.length} bytes`
}
