/**
 * Readable logs under attack (issue 8 section 5): the first failed handshake from a source in an
 * interval is reported on its own, with its error and address; the rest from that source are
 * counted by code and reported once when the interval ends. A flood from one source is then at
 * most two reports per interval, whatever its rate. At most `maxSources` sources are counted
 * apart; the others share one report under the source `'other sources'`.
 */
import type { ErrorCode } from '../errors.js'

/** What the server reports about failed handshakes (SecureServer's `'handshakeFailures'` event). */
export type FailureReport =
  | { kind: 'first', source: string, address: string, error: Error & { code?: ErrorCode } }
  | { kind: 'repeated', source: string, total: number, counts: Partial<Record<ErrorCode | 'other', number>>, seconds: number }

export class FailureSummary {
  readonly #intervalMs: number
  readonly #emit: (r: FailureReport) => void
  readonly #maxSources: number
  /** Sources reported in this interval, with what came after their first report. */
  readonly #counts = new Map<string, Partial<Record<ErrorCode | 'other', number>>>()
  #timer: NodeJS.Timeout | null = null
  #started = 0

  constructor(intervalMs: number, emit: (r: FailureReport) => void, maxSources = 1024) {
    if (!(intervalMs > 0)) throw new RangeError(`the failure summary interval must be positive (got ${intervalMs} ms)`)
    this.#intervalMs = intervalMs
    this.#emit = emit
    this.#maxSources = maxSources
  }

  add(source: string, address: string, error: Error & { code?: ErrorCode }): void {
    this.#startInterval()
    const counts = this.#counts.get(source)
    if (!counts && this.#counts.size < this.#maxSources) {
      this.#counts.set(source, {})
      this.#emit({ kind: 'first', source, address, error })
      return
    }
    const bucket = counts ?? this.#other()
    const code = error.code ?? 'other'
    bucket[code] = (bucket[code] ?? 0) + 1
  }

  /** Report what is counted now and stop the timer (the server closed). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const seconds = (performance.now() - this.#started) / 1000
    for (const [source, counts] of this.#counts) {
      const total = Object.values(counts).reduce((a, b) => a + b, 0)
      if (total > 0) this.#emit({ kind: 'repeated', source, total, counts, seconds })
    }
    this.#counts.clear()
  }

  #startInterval(): void {
    if (this.#timer) return
    this.#started = performance.now()
    this.#timer = setTimeout(() => this.flush(), this.#intervalMs)
    this.#timer.unref()
  }

  #other(): Partial<Record<ErrorCode | 'other', number>> {
    const other = this.#counts.get('other sources') ?? {}
    this.#counts.set('other sources', other)
    return other
  }
}
