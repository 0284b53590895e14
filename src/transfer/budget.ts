/**
 * What the manifests of all transfers of this process may hold in memory at once (SPEC 8.2,
 * issue 17 section 3): a manifest reserves its entry count when its head arrives and its name
 * bytes as they arrive, before anything is allocated for them, and gives them back when its
 * transfer ends. One manifest alone may use the whole per-manifest limit (SPEC 8.2); beside
 * others, the process-wide budget applies, and a manifest over it is refused with the reason.
 *
 * @example const hold = manifestBudget.open(); hold.reserveEntries(count); hold.chargeNames(n); hold.close()
 */
import { NetworkError } from '../errors.js'

/** SPEC 8.2: entries held by all manifests of a process at once, unless one manifest is alone. */
export const MAX_HELD_ENTRIES = 400_000
/** SPEC 8.2: name bytes held by all manifests of a process at once, unless one manifest is alone. */
export const MAX_HELD_NAME_BYTES = 16 * 1024 * 1024

/** One manifest's share of the budget. */
export interface Hold {
  reserveEntries(count: number): void
  chargeNames(bytes: number): void
  /** Give everything back (idempotent). */
  close(): void
}

/** Entries and name bytes held by the manifests of concurrent transfers; each transfer opens a Hold. */
export class ManifestBudget {
  #entries = 0
  #names = 0
  readonly #holds = new Set<{ entries: number, names: number }>()

  constructor(readonly maxEntries = MAX_HELD_ENTRIES, readonly maxNameBytes = MAX_HELD_NAME_BYTES) {}

  get held(): { entries: number, names: number, manifests: number } {
    return { entries: this.#entries, names: this.#names, manifests: this.#holds.size }
  }

  open(): Hold {
    const mine = { entries: 0, names: 0 }
    this.#holds.add(mine)
    const alone = (): boolean => this.#others(mine) === 0
    return {
      reserveEntries: count => {
        if (!alone() && this.#entries + count > this.maxEntries) throw this.#busy(mine, `${count} entries`, `${this.#entries} entries`, `${this.maxEntries} entries`)
        mine.entries += count
        this.#entries += count
      },
      chargeNames: bytes => {
        if (!alone() && this.#names + bytes > this.maxNameBytes) throw this.#busy(mine, `${bytes} more bytes of names`, `${this.#names} bytes of names`, `${this.maxNameBytes} bytes of names`)
        mine.names += bytes
        this.#names += bytes
      },
      close: () => {
        if (!this.#holds.delete(mine)) return
        this.#entries -= mine.entries
        this.#names -= mine.names
      },
    }
  }

  /** Other manifests holding anything (a connection whose manifest has not arrived holds nothing). */
  #others(mine: { entries: number, names: number }): number {
    let n = 0
    for (const h of this.#holds) if (h !== mine && (h.entries > 0 || h.names > 0)) n++
    return n
  }

  #busy(mine: { entries: number, names: number }, what: string, held: string, max: string): NetworkError {
    return new NetworkError(`the receiver is busy: it holds ${held} for the manifests of this and ${this.#others(mine)} other transfer(s), and ${what} would pass the ${max} it holds at once (SPEC 8.2); send again when they are done`)
  }
}

/** The budget shared by every transfer of this process. */
export const manifestBudget = new ManifestBudget()
