/**
 * Deterministic inputs for protocol vectors and hand-built handshakes: labelled fixed bytes and
 * a scripted `RandomSource` for the test-only `random` options (SPEC 11). Never for real use.
 */
import { createHash } from 'node:crypto'
import type { RandomSource } from '../../src/crypto/random.js'

/**
 * `length` bytes fixed by `label`: SHA-256(label || uint32be(0)) || SHA-256(label || uint32be(1)) ...
 *
 * @example fixedBytes('k_c', 32) // the same 32 bytes on every run
 */
export function fixedBytes(label: string, length: number): Buffer {
  const blocks: Buffer[] = []
  for (let i = 0; blocks.length * 32 < length; i++) {
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(i)
    blocks.push(createHash('sha256').update(label).update(counter).digest())
  }
  return Buffer.concat(blocks).subarray(0, length)
}

/** A `RandomSource` that hands out `values` in order; `left` tells how many were not drawn. */
export interface ScriptedRandom extends RandomSource { readonly left: number }

/**
 * A random source that returns exactly the scripted values, in order. A draw of another length,
 * or one past the end, throws: the script and the code under test disagree on the call order.
 *
 * @example new ClientHandshake({ ..., random: scriptedRandom([kc, clientRandom]) })
 */
export function scriptedRandom(values: readonly Buffer[]): ScriptedRandom {
  let next = 0
  const draw = (length: number): Buffer => {
    const v = values[next]
    if (!v) throw new RangeError(`scripted random exhausted after ${next} draws (asked for ${length} bytes)`)
    if (v.length !== length) throw new RangeError(`scripted random draw ${next} has ${v.length} bytes, the code asked for ${length}`)
    next++
    return Buffer.from(v) // a copy: the caller may own and wipe it
  }
  return Object.defineProperty(draw, 'left', { get: () => values.length - next }) as ScriptedRandom
}

/** Buffer to lowercase hex, the form every vector file uses. */
export function toHex(b: Buffer): string {
  return b.toString('hex')
}

/** Hex to Buffer; refuses odd lengths and non-hex characters rather than truncating silently. */
export function fromHex(s: string): Buffer {
  if (!/^(?:[0-9a-f]{2})*$/.test(s)) throw new Error(`not lowercase hex: ${s.slice(0, 40)}`)
  return Buffer.from(s, 'hex')
}
