/**
 * Handshakes per source as token buckets (issue 8 section 5, issue 17 section 1): a handshake
 * takes a token before its first step (`take`), a handshake that succeeds gives it back
 * (`refund`), and tokens come back at `perSecond` up to `burst`. So however many connections
 * arrive at once, a source starts at most `burst` + `perSecond` x t handshakes that fail within
 * t seconds: the work is reserved before it starts, never charged after. Only sources with
 * tokens missing are stored, at most `maxSources` of them; beyond that the oldest is forgotten
 * (it is forgiven early, which costs at most one more burst: the server's memory stays bounded).
 */
export class FailureBudget {
  readonly #burst: number
  readonly #perSecond: number
  readonly #now: () => number
  readonly #maxSources: number
  /** Tokens left and when they were counted (ms), per source; Map order is age. */
  readonly #buckets = new Map<string, { tokens: number, at: number }>()

  constructor(burst: number, perSecond: number, now: () => number = () => performance.now(), maxSources = 65_536) {
    this.#burst = burst
    this.#perSecond = perSecond
    this.#now = now
    this.#maxSources = maxSources
  }

  /** Tokens `source` has now (a whole burst for a source never charged). */
  left(source: string): number {
    const b = this.#buckets.get(source)
    if (!b) return this.#burst
    const tokens = Math.min(this.#burst, b.tokens + (this.#now() - b.at) / 1000 * this.#perSecond)
    if (tokens >= this.#burst) this.#buckets.delete(source)
    return tokens
  }

  /** Reserve a token for a handshake about to start; false (and nothing taken) if `source` has no whole token. */
  take(source: string): boolean {
    const tokens = this.left(source)
    if (tokens < 1) return false
    this.#store(source, tokens - 1)
    return true
  }

  /** Give back the token of a handshake that succeeded (never above the burst). */
  refund(source: string): void {
    this.#store(source, Math.min(this.#burst, this.left(source) + 1))
  }

  #store(source: string, tokens: number): void {
    this.#buckets.delete(source) // re-inserted as the newest
    if (tokens >= this.#burst) return
    this.#buckets.set(source, { tokens, at: this.#now() })
    if (this.#buckets.size > this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value!)
  }

  /** Sources stored (for tests and the Operations figures). */
  get size(): number { return this.#buckets.size }
}
