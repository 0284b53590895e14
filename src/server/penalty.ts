/**
 * Per-source penalties (issue 17 section 1), after sshd's PerSourcePenalties: a connection that
 * held the server without completing a handshake in time (it sent no whole first message
 * within the handshake timeout, or its handshake timed out: sshd's `grace-exceeded`) adds
 * `seconds` to its source's penalty. Once a source's penalty reaches `min` seconds, its new
 * connections are refused unread until the penalty has run out (1 s per second, at most `max`
 * seconds ahead). Connections already held are not affected by the penalty; each that times out
 * adds its own. At most `maxSources` penalized sources are stored (the oldest is forgiven early).
 */
export interface PenaltyLimits {
  /** Seconds of penalty per connection that timed out idle or in its handshake (default 10, sshd's grace-exceeded). */
  seconds: number
  /** Accumulated seconds from which the source is refused (default 15, sshd's min). */
  min: number
  /** Most seconds a penalty runs ahead (default 600, sshd's max). */
  max: number
}

export const DEFAULT_PENALTY: PenaltyLimits = { seconds: 10, min: 15, max: 600 }

export class Penalties {
  readonly #limits: PenaltyLimits
  readonly #now: () => number
  readonly #maxSources: number
  /** Per source: when its penalty runs out (ms), and whether it reached `min` (is enforced). Map order is age. */
  readonly #sources = new Map<string, { until: number, enforced: boolean }>()

  constructor(limits: PenaltyLimits, now: () => number = () => performance.now(), maxSources = 65_536) {
    this.#limits = limits
    this.#now = now
    this.#maxSources = maxSources
  }

  /** Add one penalty to `source`. */
  add(source: string): void {
    const now = this.#now()
    const p = this.#current(source, now)
    const until = Math.min(Math.max(p?.until ?? now, now) + this.#limits.seconds * 1000, now + this.#limits.max * 1000)
    this.#sources.delete(source) // re-inserted as the newest
    this.#sources.set(source, { until, enforced: (p?.enforced ?? false) || until - now >= this.#limits.min * 1000 })
    if (this.#sources.size > this.#maxSources) this.#sources.delete(this.#sources.keys().next().value!)
  }

  /** Whole seconds `source` is still refused for, or 0 if it is not refused. */
  refusedFor(source: string): number {
    const now = this.#now()
    const p = this.#current(source, now)
    return p?.enforced ? Math.ceil((p.until - now) / 1000) : 0
  }

  #current(source: string, now: number): { until: number, enforced: boolean } | undefined {
    const p = this.#sources.get(source)
    if (p && p.until <= now) {
      this.#sources.delete(source)
      return undefined
    }
    return p
  }

  /** Sources stored (for tests). */
  get size(): number { return this.#sources.size }
}
