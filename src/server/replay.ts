/**
 * Recently seen ClientHello randoms (issue 8 section 5): an exact replay of a recorded
 * ClientHello is refused before any RSA work. Bounded: the oldest entries are forgotten first,
 * so a replay older than the last `capacity` handshakes costs one RSA operation again (and,
 * like any failure, a token of its source's budget). A changed random is not a replay to this
 * cache; the OAEP label binds the random to k_c, so such a hello fails at Finished.
 *
 * @example
 *   const seen = new ReplayCache()
 *   seen.fresh(random) // true the first time, false after
 */
export class ReplayCache {
  readonly capacity: number
  readonly #seen = new Set<string>()

  constructor(capacity = 65_536) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer (got ${capacity})`)
    this.capacity = capacity
  }

  /** True if `random` was not among the last `capacity` seen, and remembers it. */
  fresh(random: Buffer): boolean {
    const key = random.toString('base64')
    if (this.#seen.has(key)) return false
    this.#seen.add(key)
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.values().next().value!)
    return true
  }

  get size(): number { return this.#seen.size }
}
