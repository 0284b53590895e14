/**
 * A queue of received bytes from which fixed-length messages are taken whole (SPEC 8's control
 * messages arrive split across records of any sizes). Callers bound what they wait for.
 *
 * @example q.push(chunk); const head = q.peek(8); if (head) { ... q.take(8) }
 */
export class ByteQueue {
  #chunks: Buffer[] = []
  #length = 0

  get length(): number { return this.#length }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** The first `n` bytes without removing them, or null if fewer have arrived. */
  peek(n: number): Buffer | null {
    if (this.#length < n) return null
    this.#flatten()
    return this.#chunks[0]!.subarray(0, n)
  }

  /** Remove and return the first `n` bytes, or null if fewer have arrived. */
  take(n: number): Buffer | null {
    const out = this.peek(n)
    if (out === null) return null
    const first = this.#chunks[0]!
    if (first.length === n) this.#chunks = []
    else this.#chunks = [first.subarray(n)]
    this.#length -= n
    return out
  }

  /** Everything queued, emptying the queue. */
  drain(): Buffer {
    this.#flatten()
    const out = this.#chunks[0] ?? Buffer.alloc(0)
    this.#chunks = []
    this.#length = 0
    return out
  }

  #flatten(): void {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)]
  }
}
