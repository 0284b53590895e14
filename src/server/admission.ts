/**
 * Who may start a handshake now (issue 8 section 5, issue 17 section 1): the server's answer to
 * unauthenticated load. No I/O: the listener asks, this decides, and holds the connections
 * waiting for a slot. Any listener can use it (`createServer`, a pairing listener).
 *
 * - A *source* is a network block, as sshd's PerSourceNetBlockSize: an IPv4 /24 or an IPv6 /64
 *   by default (`sourceOf`). Every per-source limit, budget and penalty is the block's.
 * - A connection *waits* from its arrival until the listener says it is `ready` (its first
 *   message has arrived whole) and a slot is free. Only a ready connection takes a handshake
 *   slot, so a socket that sends nothing never holds one.
 * - Handshake slots are shared fairly: a source runs at most `perSource.handshakes` at once, and
 *   a freed slot goes to the next source in turn, so one source's queue never delays another's.
 *   A source holds at most `perSource.handshakes + perSource.waiting` unauthenticated connections.
 * - Each handshake reserves a token of its source's budget (a bucket of
 *   `perSource.failureBurst`, refilled at `perSource.failuresPerSecond`) before it starts; a
 *   handshake that succeeds gives the token back. With no token left, the source's connections
 *   are closed unread, before any RSA work. So handshakes that fail (and the RSA decryptions
 *   they cost) are bounded by burst + rate x t, however many arrive at once.
 * - A connection that times out waiting without its first message, or in its handshake, adds a
 *   penalty to its source (src/server/penalty.ts, sshd's PerSourcePenalties).
 * - sshd's `MaxStartups start:rate:full` over every unauthenticated connection (running and
 *   waiting): from `start`, refuse a new one with probability `rate`%, rising linearly to 100%
 *   at `full`. A source that holds no unauthenticated connection is exempt: at the global limits
 *   the newest waiting connection of the source holding the most waiting is closed instead, so a
 *   few sources cannot deny everyone by filling the server.
 */
import { NetworkError } from '../errors.js'
import { FailureBudget } from './budget.js'
import { DEFAULT_PENALTY, Penalties, type PenaltyLimits } from './penalty.js'

/** sshd-style random early drop (`MaxStartups start:rate:full`): past `start` unauthenticated connections, drop `rate`% rising to 100% at `full` (SPEC 7.3). */
export interface MaxStartups {
  /** Unauthenticated connections from which random early drop starts. */
  start: number
  /** Percentage refused at `start`. */
  rate: number
  /** Unauthenticated connections at which every new one is refused. */
  full: number
}

/** Per source (an IPv4 /24 or IPv6 /64 by default): handshakes at once, waiting, the failure budget, penalties (SPEC 7.3). */
export interface SourceLimits {
  /** Handshakes one source runs at once (default 16). */
  handshakes?: number
  /** Connections one source may have waiting, beyond its running handshakes (default 240). */
  waiting?: number
  /** Failed handshakes a source may have in a burst (default 64). */
  failureBurst?: number
  /** Failed handshakes per second a source may sustain (default 2). */
  failuresPerSecond?: number
  /** Prefix length of an IPv4 source (default 24; 32 counts each address alone). */
  ipv4Prefix?: number
  /** Prefix length of an IPv6 source (default 64; 128 counts each address alone). */
  ipv6Prefix?: number
  /** Penalties for connections that time out (default 10 s each, enforced from 15 s, at most 600 s). */
  penalty?: Partial<PenaltyLimits>
}

type SourceDefaults = Required<Omit<SourceLimits, 'penalty'>> & { penalty: PenaltyLimits }

export interface AdmissionLimits {
  /** Handshakes running at once, all sources together. */
  maxHandshakes: number
  /** Connections waiting for a slot, all sources together. */
  maxWaiting: number
  perSource?: SourceLimits
  /** Default: full = maxHandshakes + maxWaiting, start = the lesser of 512 and full, rate 30. */
  maxStartups?: MaxStartups
  /** Test seam: uniform in [0, 1) for random early drop, and the clock (ms) for the budgets and penalties. */
  random?: () => number
  now?: () => number
}

export const DEFAULT_SOURCE_LIMITS: SourceDefaults = { handshakes: 16, waiting: 240, failureBurst: 64, failuresPerSecond: 2, ipv4Prefix: 24, ipv6Prefix: 64, penalty: DEFAULT_PENALTY }

/** What `arrive` decided: the connection waits (maybe closing another source's newest waiting one, `evicted`), or is closed unread. */
export type Arrival<T> = { refusal: NetworkError } | { refusal?: undefined, evicted?: { item: T, source: string, refusal: NetworkError } }

/** How a started handshake ended: `secure` gives its token back; `timeout` also penalizes its source. */
export type Outcome = 'secure' | 'failed' | 'timeout'

interface Waiter { source: string, address: string, ready: boolean }

export class Admission<T> {
  readonly limits: Required<Omit<AdmissionLimits, 'random' | 'now' | 'perSource'>> & { perSource: SourceDefaults }
  readonly #random: () => number
  readonly #failures: FailureBudget
  readonly #penalties: Penalties
  /** Every waiting connection (ready or not), in arrival order. */
  readonly #waiters = new Map<T, Waiter>()
  /** Per source with anything held: running handshakes and waiting connections; a source with neither is deleted. */
  readonly #held = new Map<string, { running: number, waiting: T[] }>()
  /** Ready connections per source, in arrival order; Map order is the round-robin turn. */
  readonly #queues = new Map<string, T[]>()
  #active = 0

  constructor(limits: AdmissionLimits) {
    const perSource = { ...DEFAULT_SOURCE_LIMITS, ...limits.perSource, penalty: { ...DEFAULT_PENALTY, ...limits.perSource?.penalty } }
    const full = limits.maxHandshakes + limits.maxWaiting
    const maxStartups = limits.maxStartups ?? { start: Math.min(512, full), rate: 30, full }
    checkLimits(limits, perSource, maxStartups)
    this.limits = { maxHandshakes: limits.maxHandshakes, maxWaiting: limits.maxWaiting, perSource, maxStartups }
    this.#random = limits.random ?? Math.random
    this.#failures = new FailureBudget(perSource.failureBurst, perSource.failuresPerSecond, limits.now)
    this.#penalties = new Penalties(perSource.penalty, limits.now)
  }

  get active(): number { return this.#active }
  get waiting(): number { return this.#waiters.size }

  /** The source (network block) of a peer's IP address, with this admission's prefix lengths. */
  sourceOf(ip: string | undefined): string {
    return sourceOf(ip, this.limits.perSource.ipv4Prefix, this.limits.perSource.ipv6Prefix)
  }

  /** What one source holds now (for tests and logs). */
  heldBy(source: string): { running: number, waiting: number } {
    const h = this.#held.get(source)
    return { running: h?.running ?? 0, waiting: h?.waiting.length ?? 0 }
  }

  /** A connection from `source` arrived (`address` names it in messages): it waits, or is refused. */
  arrive(source: string, item: T, address: string): Arrival<T> {
    const { refusal, evict } = this.#refusal(source, address)
    if (refusal) return { refusal }
    const evicted = evict ? this.#evict(evict, address) : undefined
    this.#waiters.set(item, { source, address, ready: false })
    this.#hold(source).waiting.push(item)
    return evicted ? { evicted } : {}
  }

  /** `item`'s first message has arrived: it may take a slot (see `next`). False if it was not waiting. */
  ready(item: T): boolean {
    const w = this.#waiters.get(item)
    if (!w || w.ready) return false
    w.ready = true
    const queue = this.#queues.get(w.source) ?? []
    queue.push(item)
    this.#queues.set(w.source, queue)
    return true
  }

  /**
   * Take `item` out of the waiting (it closed, or timed out); false if it was not waiting. A
   * timeout of a connection that never became ready penalizes its source.
   */
  withdraw(item: T, why: 'closed' | 'timeout'): boolean {
    const w = this.#remove(item)
    if (!w) return false
    if (why === 'timeout' && !w.ready) this.#penalties.add(w.source)
    return true
  }

  /** A handshake from `source` ended: `secure` gives its token back, `timeout` penalizes the source. */
  finished(source: string, outcome: Outcome): void {
    if (outcome === 'secure') this.#failures.refund(source)
    if (outcome === 'timeout') this.#penalties.add(source)
    this.#active--
    const h = this.#hold(source)
    h.running--
    this.#release(source, h)
  }

  /**
   * The next ready connection, taking sources in turn: counted as running with a token of its
   * source's budget reserved, or with a `refusal` (close it unread) when its source ran out of
   * budget or was penalized while it waited.
   */
  next(): { item: T, source: string, refusal?: NetworkError } | undefined {
    if (this.#active >= this.limits.maxHandshakes) return undefined
    for (const [source, queue] of this.#queues) {
      if (this.heldBy(source).running >= this.limits.perSource.handshakes) continue
      const item = queue[0]!
      const { address } = this.#remove(item)!
      const refusal = this.#penaltyRefusal(source, address) ?? (this.#failures.take(source) ? undefined : this.#budgetRefusal(source, address))
      if (refusal) return { item, source, refusal }
      this.#active++
      this.#hold(source).running++
      return { item, source }
    }
    return undefined
  }

  #remove(item: T): Waiter | undefined {
    const w = this.#waiters.get(item)
    if (!w) return undefined
    this.#waiters.delete(item)
    const h = this.#hold(w.source)
    h.waiting.splice(h.waiting.indexOf(item), 1)
    this.#release(w.source, h)
    const queue = this.#queues.get(w.source)
    const i = queue?.indexOf(item) ?? -1
    if (i < 0) return w
    queue!.splice(i, 1)
    this.#queues.delete(w.source) // and back at the end of the turn if more wait
    if (queue!.length > 0) this.#queues.set(w.source, queue!)
    return w
  }

  #hold(source: string): { running: number, waiting: T[] } {
    let h = this.#held.get(source)
    if (!h) this.#held.set(source, h = { running: 0, waiting: [] })
    return h
  }

  #release(source: string, h: { running: number, waiting: T[] }): void {
    if (h.running === 0 && h.waiting.length === 0) this.#held.delete(source)
  }

  /** Close the newest waiting connection of `from` to make room for a connection from `address`. */
  #evict(from: string, address: string): { item: T, source: string, refusal: NetworkError } {
    const item = this.#held.get(from)!.waiting.at(-1)!
    const w = this.#remove(item)!
    return { item, source: from, refusal: new NetworkError(`the server is full and ${from} holds the most waiting connections; the connection from ${w.address} was closed unread to make room for ${address}`) }
  }

  /** The source holding the most waiting connections, if it holds more than `than`. */
  #heaviest(than: number): string | undefined {
    let best: string | undefined
    let most = than
    for (const [source, h] of this.#held) {
      if (h.waiting.length > most) [best, most] = [source, h.waiting.length]
    }
    return best
  }

  #penaltyRefusal(source: string, address: string): NetworkError | undefined {
    const seconds = this.#penalties.refusedFor(source)
    if (seconds === 0) return undefined
    return new NetworkError(`${source} is refused for ${seconds} s more: its connections timed out without completing a handshake (a penalty, as sshd's PerSourcePenalties); the connection from ${address} was closed unread`)
  }

  #budgetRefusal(source: string, address: string): NetworkError {
    const { failureBurst, failuresPerSecond } = this.limits.perSource
    return new NetworkError(`too many handshakes without success from ${source} (more than ${failureBurst} at once or in a burst, then ${failuresPerSecond} a second); the connection from ${address} was closed unread`)
  }

  #refusal(source: string, address: string): { refusal?: NetworkError, evict?: string } {
    const { perSource, maxWaiting, maxStartups } = this.limits
    const penalized = this.#penaltyRefusal(source, address)
    if (penalized) return { refusal: penalized }
    if (this.#failures.left(source) < 1) return { refusal: this.#budgetRefusal(source, address) }
    const mine = this.heldBy(source)
    if (mine.running + mine.waiting >= perSource.handshakes + perSource.waiting) return { refusal: new NetworkError(`${source} already holds ${mine.running + mine.waiting} unauthenticated connections (perSource: ${perSource.handshakes} handshakes + ${perSource.waiting} waiting); the connection from ${address} was closed unread`) }
    const held = this.#active + this.waiting
    const first = mine.running + mine.waiting === 0
    if (this.waiting >= maxWaiting || held >= maxStartups.full) {
      const evict = first ? this.#heaviest(0) : undefined
      if (evict) return { evict }
      return { refusal: new NetworkError(`the server is busy (${this.#active} handshakes running, ${this.waiting} waiting); the connection from ${address} was closed unread`) }
    }
    if (!first && held >= maxStartups.start && this.#random() * 100 < dropPercent(held, maxStartups)) return { refusal: new NetworkError(`the server is busy (${held} unauthenticated connections, random early drop from ${maxStartups.start}); the connection from ${address} was closed unread`) }
    return {}
  }
}

/** sshd MaxStartups: `rate`% at `start`, linearly up to 100% at `full`. */
export function dropPercent(held: number, m: MaxStartups): number {
  if (held < m.start) return 0
  if (held >= m.full) return 100
  return m.rate + (100 - m.rate) * (held - m.start) / (m.full - m.start)
}

/**
 * The source of a peer address: its network block, as sshd's PerSourceNetBlockSize. An IPv4
 * address (also when IPv4-mapped) as its /`v4` (default 24), an IPv6 address as its /`v6`
 * (default 64, which one subscriber usually holds whole). A whole address (/32, /128) is shown
 * without a prefix.
 *
 * @example sourceOf('192.0.2.77') === '192.0.2.0/24'
 * @example sourceOf('2001:db8::1') === '2001:db8:0:0::/64'
 */
export function sourceOf(address: string | undefined, v4 = 24, v6 = 64): string {
  if (!address) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  const ip = mapped ? mapped[1]! : address
  if (!ip.includes(':')) {
    if (v4 >= 32) return ip
    const n = ip.split('.').reduce((acc, octet) => acc * 256 + (Number(octet) & 255), 0)
    const masked = v4 === 0 ? 0 : n - n % 2 ** (32 - v4)
    return `${[24, 16, 8, 0].map(shift => Math.floor(masked / 2 ** shift) % 256).join('.')}/${v4}`
  }
  const [head = '', tail = ''] = ip.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = (ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left).map(g => parseInt(g, 16) || 0)
  if (v6 >= 128) return ip.toLowerCase()
  const kept = Math.ceil(v6 / 16)
  const masked = groups.slice(0, kept).map((g, i) => i < kept - 1 || v6 % 16 === 0 ? g : g & (0xffff << (16 - v6 % 16)) & 0xffff)
  return `${masked.map(g => g.toString(16)).join(':')}::/${v6}`
}

function checkLimits(l: AdmissionLimits, s: SourceDefaults, m: MaxStartups): void {
  for (const [name, v] of [['maxHandshakes', l.maxHandshakes], ['perSource.handshakes', s.handshakes], ['perSource.failureBurst', s.failureBurst]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`)
  }
  for (const [name, v] of [['maxWaiting', l.maxWaiting], ['perSource.waiting', s.waiting]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer (got ${v})`)
  }
  for (const [name, v, most] of [['perSource.ipv4Prefix', s.ipv4Prefix, 32], ['perSource.ipv6Prefix', s.ipv6Prefix, 128]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > most) throw new RangeError(`${name} must be a whole number from 0 to ${most} (got ${v})`)
  }
  const p = s.penalty
  if (!(p.seconds >= 0 && p.min >= 0 && p.max >= p.min)) throw new RangeError(`perSource.penalty must have seconds >= 0 and 0 <= min <= max (got ${p.seconds}, ${p.min}, ${p.max})`)
  if (!(s.failuresPerSecond > 0)) throw new RangeError(`perSource.failuresPerSecond must be positive (got ${s.failuresPerSecond})`)
  if (!(Number.isInteger(m.start) && m.start >= 0 && m.full >= m.start && m.rate >= 0 && m.rate <= 100)) {
    throw new RangeError(`maxStartups must have 0 <= start <= full and rate in 0..100 (got ${m.start}:${m.rate}:${m.full})`)
  }
}
