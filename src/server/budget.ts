/**
 * Failed handshakes per source as token buckets (issue 8 section 5): each failure takes a token,
 * tokens come back at `perSecond` up to `burst`. Only sources with tokens missing are stored, at
 * most `maxSources` of them; beyond that the oldest is forgotten (it is forgiven early, which
 * costs at most one more burst of failures: the server's memory stays bounded).
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

  /** Take a token from `source` (none below zero). */
  charge(source: string): void {
    const tokens = Math.max(0, this.left(source) - 1)
    this.#buckets.delete(source) // re-inserted as the newest
    this.#buckets.set(source, { tokens, at: this.#now() })
    if (this.#buckets.size > this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value!)
  }

  /** Sources stored (for tests and the Operations figures). */
  get size(): number { return this.#buckets.size }
}
