/**
 * What a waiting connection has sent before its handshake starts (issue 17 section 1): held, not
 * parsed, until its first frame (the ClientHello, SPEC 2) is whole, so that only a connection
 * with work to do asks for a handshake slot. Bounded: at most `HANDSHAKE_FRAMES` handshake
 * frames' worth is held (beyond that the listener stops reading and lets the handshake refuse it).
 */
import { HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES } from '../constants.js'

/** A varint length prefix of a frame within the handshake limit takes at most this many bytes (SPEC 2.1). */
const PREFIX_BYTES = 3
/** The most bytes held for one waiting connection. */
export const HELD_LIMIT = HANDSHAKE_FRAMES * (PREFIX_BYTES + HANDSHAKE_FRAME_LIMIT)

export class FirstFrame {
  readonly #chunks: Buffer[] = []
  #bytes = 0

  get bytes(): number { return this.#bytes }

  /**
   * Hold `chunk`; true once the handshake can decide about what is held: a whole first frame or a
   * prefix over the handshake limit. Either comes within 3 + HANDSHAKE_FRAME_LIMIT bytes, under
   * `HELD_LIMIT`, so holding more never needs a check of its own here (the listener pauses there).
   */
  add(chunk: Buffer): boolean {
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
    return this.decidable()
  }

  decidable(): boolean {
    const head = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, Math.min(this.#bytes, PREFIX_BYTES))
    let length = 0
    for (let i = 0; i < Math.min(head.length, PREFIX_BYTES); i++) {
      length += (head[i]! & 0x7f) * 2 ** (7 * i)
      if (head[i]! < 0x80) return length > HANDSHAKE_FRAME_LIMIT || this.#bytes >= i + 1 + length
    }
    return head.length >= PREFIX_BYTES // a prefix longer than 3 bytes is over the limit
  }

  /** Everything held, in order, to be read again by the handshake. */
  take(): Buffer {
    const all = Buffer.concat(this.#chunks, this.#bytes)
    this.#chunks.length = 0
    this.#bytes = 0
    return all
  }
}
