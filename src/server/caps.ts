/**
 * Established connections (issue 8 section 3): at most `total` at once, and at most `perKey`
 * for one client key, so one authorized client (or whoever stole its key) cannot take every
 * connection the server is willing to hold. Each one holds at most the session's byte-bounded
 * buffers, so these caps bound the server's memory for authenticated peers.
 */
import { NetworkError } from '../errors.js'

interface Closable { peerFingerprint: string | null, remoteAddress: string, once(event: 'close', fn: () => void): unknown }

export class ConnectionCaps {
  readonly #total: number
  readonly #perKey: number
  readonly #byKey = new Map<string, number>()
  #count = 0

  constructor(total: number, perKey: number) {
    for (const [name, v] of [['maxConnections', total], ['maxConnectionsPerKey', perKey]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`)
    }
    this.#total = total
    this.#perKey = perKey
  }

  get total(): number { return this.#count }

  /** The refusal for a new connection from `address` while the server is full, checked before reading it. */
  refusal(address: string): NetworkError | undefined {
    if (this.#count < this.#total) return undefined
    return new NetworkError(`the server holds its maximum of ${this.#total} established connections (maxConnections); the connection from ${address} was closed unread`)
  }

  /** Count an authenticated stream until it closes; or the refusal if a cap is reached. */
  add(stream: Closable): NetworkError | undefined {
    const key = stream.peerFingerprint ?? 'unknown'
    const full = this.refusal(stream.remoteAddress)
    if (full) return full
    const n = this.#byKey.get(key) ?? 0
    if (n >= this.#perKey) {
      return new NetworkError(`client key ${key} already holds its maximum of ${this.#perKey} connections (maxConnectionsPerKey); the session from ${stream.remoteAddress} was closed after its handshake`)
    }
    this.#byKey.set(key, n + 1)
    this.#count++
    stream.once('close', () => this.#remove(key))
    return undefined
  }

  #remove(key: string): void {
    this.#count--
    const n = (this.#byKey.get(key) ?? 1) - 1
    if (n > 0) this.#byKey.set(key, n)
    else this.#byKey.delete(key)
  }
}
