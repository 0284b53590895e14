/**
 * Who may start a handshake now (issue 8 section 5): the server's answer to unauthenticated load.
 * No I/O: the server asks, this decides, and holds the connections waiting for a slot.
 *
 * - Handshake slots are shared fairly: a source (an IPv4 address or an IPv6 /64) runs at most
 *   `perSource.handshakes` at once, and a freed slot goes to the next source in turn, so one
 *   source's queue never delays another's.
 * - A source holds at most `perSource.waiting` connections in the queue.
 * - Failed handshakes cost the source a token (a bucket of `perSource.failureBurst`, refilled at
 *   `perSource.failuresPerSecond`); with none left its connections are closed unread, before
 *   any RSA work, until the bucket refills.
 * - sshd's `MaxStartups start:rate:full` over every unauthenticated connection (running and
 *   waiting): from `start`, refuse a new one with probability `rate`%, rising linearly to 100%
 *   at `full`. It only matters when several sources load the server at once.
 */
import { NetworkError } from '../errors.js'
import { FailureBudget } from './budget.js'

/** sshd-style random early drop (`MaxStartups start:rate:full`): past `start` unauthenticated connections, drop `rate`% rising to 100% at `full` (SPEC 7.3). */
export interface MaxStartups {
  /** Unauthenticated connections from which random early drop starts. */
  start: number
  /** Percentage refused at `start`. */
  rate: number
  /** Unauthenticated connections at which every new one is refused. */
  full: number
}

/** Per source address (an IPv4 address or an IPv6 /64): handshakes at once, waiting, and the failure budget (SPEC 7.3). */
export interface SourceLimits {
  /** Handshakes one source runs at once (default 16). */
  handshakes?: number
  /** Connections one source may have waiting for a slot (default 240). */
  waiting?: number
  /** Failed handshakes a source may have in a burst (default 64). */
  failureBurst?: number
  /** Failed handshakes per second a source may sustain (default 2). */
  failuresPerSecond?: number
}

export interface AdmissionLimits {
  /** Handshakes running at once, all sources together. */
  maxHandshakes: number
  /** Connections waiting for a slot, all sources together. */
  maxWaiting: number
  perSource?: SourceLimits
  /** Default: full = maxHandshakes + maxWaiting, start = the lesser of 512 and full, rate 30. */
  maxStartups?: MaxStartups
  /** Test seam: uniform in [0, 1) for random early drop, and the clock for the budgets. */
  random?: () => number
  now?: () => number
}

export const DEFAULT_SOURCE_LIMITS: Required<SourceLimits> = { handshakes: 16, waiting: 240, failureBurst: 64, failuresPerSecond: 2 }

/** What `arrive` decided: run the handshake now, wait for a slot, or close the connection unread. */
export type Decision = 'start' | 'wait' | NetworkError

export class Admission<T> {
  readonly limits: Required<Omit<AdmissionLimits, 'random' | 'now'>> & { perSource: Required<SourceLimits> }
  readonly #random: () => number
  readonly #failures: FailureBudget
  /** Running handshakes per source; a source with none is deleted. */
  readonly #running = new Map<string, number>()
  /** Waiting connections per source, in arrival order; Map order is the round-robin turn. */
  readonly #queues = new Map<string, Array<{ item: T, address: string }>>()
  #active = 0
  #waiting = 0

  constructor(limits: AdmissionLimits) {
    const perSource = { ...DEFAULT_SOURCE_LIMITS, ...limits.perSource }
    const full = limits.maxHandshakes + limits.maxWaiting
    const maxStartups = limits.maxStartups ?? { start: Math.min(512, full), rate: 30, full }
    checkLimits(limits, perSource, maxStartups)
    this.limits = { maxHandshakes: limits.maxHandshakes, maxWaiting: limits.maxWaiting, perSource, maxStartups }
    this.#random = limits.random ?? Math.random
    this.#failures = new FailureBudget(perSource.failureBurst, perSource.failuresPerSecond, limits.now)
  }

  get active(): number { return this.#active }
  get waiting(): number { return this.#waiting }

  /** A connection from `source` arrived. 'start' counts it as running; 'wait' queues `item`. */
  arrive(source: string, item: T, address: string): Decision {
    const refusal = this.#refusal(source, address)
    if (refusal) return refusal
    if (this.#active < this.limits.maxHandshakes && this.#runningOf(source) < this.limits.perSource.handshakes) {
      this.#run(source)
      return 'start'
    }
    const queue = this.#queues.get(source) ?? []
    queue.push({ item, address })
    this.#queues.set(source, queue)
    this.#waiting++
    return 'wait'
  }

  /** Take `item` out of the queue (it timed out or closed); false if it was not waiting. */
  withdraw(source: string, item: T): boolean {
    const queue = this.#queues.get(source)
    const i = queue?.findIndex(q => q.item === item) ?? -1
    if (i < 0) return false
    queue!.splice(i, 1)
    if (queue!.length === 0) this.#queues.delete(source)
    this.#waiting--
    return true
  }

  /** A handshake from `source` ended; `failed` charges its budget. */
  finished(source: string, failed: boolean): void {
    if (failed) this.#failures.charge(source)
    this.#active--
    const n = this.#runningOf(source) - 1
    if (n > 0) this.#running.set(source, n)
    else this.#running.delete(source)
  }

  /**
   * The next waiting connection, taking sources in turn: counted as running, or with a
   * `refusal` (close it unread) when its source ran out of budget while it waited.
   */
  next(): { item: T, source: string, refusal?: NetworkError } | undefined {
    if (this.#active >= this.limits.maxHandshakes) return undefined
    for (const [source, queue] of this.#queues) {
      if (this.#runningOf(source) >= this.limits.perSource.handshakes) continue
      const { item, address } = queue.shift()!
      this.#waiting--
      this.#queues.delete(source) // and back at the end of the turn if more wait
      if (queue.length > 0) this.#queues.set(source, queue)
      const refusal = this.#budgetRefusal(source, address)
      if (refusal) return { item, source, refusal }
      this.#run(source)
      return { item, source }
    }
    return undefined
  }

  #budgetRefusal(source: string, address: string): NetworkError | undefined {
    if (this.#failures.left(source) >= 1) return undefined
    const { failureBurst, failuresPerSecond } = this.limits.perSource
    return new NetworkError(`too many failed handshakes from ${source} (more than ${failureBurst}, then ${failuresPerSecond} a second); the connection from ${address} was closed unread`)
  }

  #refusal(source: string, address: string): NetworkError | undefined {
    const { perSource, maxWaiting, maxStartups } = this.limits
    const broke = this.#budgetRefusal(source, address)
    if (broke) return broke
    if ((this.#queues.get(source)?.length ?? 0) >= perSource.waiting) return new NetworkError(`${source} already has ${perSource.handshakes} handshakes running and ${perSource.waiting} waiting; the connection from ${address} was closed unread`)
    const held = this.#active + this.#waiting
    if (this.#waiting >= maxWaiting || held >= maxStartups.full) return new NetworkError(`the server is busy (${this.#active} handshakes running, ${this.#waiting} waiting); the connection from ${address} was closed unread`)
    if (held >= maxStartups.start && this.#random() * 100 < dropPercent(held, maxStartups)) return new NetworkError(`the server is busy (${held} unauthenticated connections, random early drop from ${maxStartups.start}); the connection from ${address} was closed unread`)
    return undefined
  }

  #run(source: string): void {
    this.#active++
    this.#running.set(source, this.#runningOf(source) + 1)
  }

  #runningOf(source: string): number {
    return this.#running.get(source) ?? 0
  }
}

/** sshd MaxStartups: `rate`% at `start`, linearly up to 100% at `full`. */
export function dropPercent(held: number, m: MaxStartups): number {
  if (held < m.start) return 0
  if (held >= m.full) return 100
  return m.rate + (100 - m.rate) * (held - m.start) / (m.full - m.start)
}

/**
 * The budget key of a peer address: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address as its /64, which one subscriber usually holds whole.
 *
 * @example sourceOf('2001:db8::1') === '2001:db8:0:0::/64'
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups.slice(0, 4).map(g => (g.replace(/^0+(?=.)/, '') || '0').toLowerCase()).join(':')}::/64`
}

function checkLimits(l: AdmissionLimits, s: Required<SourceLimits>, m: MaxStartups): void {
  for (const [name, v] of [['maxHandshakes', l.maxHandshakes], ['perSource.handshakes', s.handshakes], ['perSource.failureBurst', s.failureBurst]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`)
  }
  for (const [name, v] of [['maxWaiting', l.maxWaiting], ['perSource.waiting', s.waiting]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer (got ${v})`)
  }
  if (!(s.failuresPerSecond > 0)) throw new RangeError(`perSource.failuresPerSecond must be positive (got ${s.failuresPerSecond})`)
  if (!(Number.isInteger(m.start) && m.start >= 0 && m.full >= m.start && m.rate >= 0 && m.rate <= 100)) {
    throw new RangeError(`maxStartups must have 0 <= start <= full and rate in 0..100 (got ${m.start}:${m.rate}:${m.full})`)
  }
}
