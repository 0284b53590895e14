/**
 * The fuzzer's mutation model (issue 5): what fast-check generates to alter a real frame or a
 * wire, and how each alteration applies. Positions are naturals taken modulo the frame length,
 * so a counterexample shrinks towards the first byte and stays meaningful when lengths differ.
 */
import fc from 'fast-check'
import { MAGIC, VERSION } from '../../src/constants.js'

/** Where a handshake message keeps its length fields and its X25519 share (SPEC 3.1, 3.3). */
export interface Fields {
  /** [offset, size in bytes] of each length or count field. */
  lengths: Array<[number, 1 | 2]>
  x25519?: number
  /** Offset of a ClientHello's cipher count, followed by the ids. */
  cipherList?: number
}

export type Mutation =
  | { op: 'flip', pos: number, bit: number }
  | { op: 'set', pos: number, value: number }
  | { op: 'truncate', keep: number }
  | { op: 'extend', bytes: Uint8Array }
  | { op: 'insert', pos: number, bytes: Uint8Array }
  | { op: 'delete', pos: number, count: number }
  | { op: 'length', field: number, value: number }
  | { op: 'x25519', point: number }
  | { op: 'ciphers', ids: number[] }
  | { op: 'replace', bytes: Uint8Array }

/**
 * RFC 7748 section 6.1 and the usual blocklists: X25519 points of small order (and values that
 * reduce to them). Their shared secret is all zeros, which SPEC 4.2 refuses.
 */
export const LOW_ORDER_POINTS: readonly Buffer[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map(h => Buffer.from(h, 'hex'))

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n & 0xffff)
  return b
}

/** A message-shaped body: header (mostly right), then fields, some with length prefixes that lie. */
const arbFields: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.oneof({ arbitrary: fc.constant(Uint8Array.from(MAGIC)), weight: 4 }, { arbitrary: fc.uint8Array({ maxLength: 5 }), weight: 1 }),
  fc.oneof({ arbitrary: fc.constant(VERSION), weight: 4 }, { arbitrary: fc.nat(255), weight: 1 }),
  fc.oneof({ arbitrary: fc.constantFrom(1, 2, 3, 4, 15), weight: 4 }, { arbitrary: fc.nat(255), weight: 1 }),
  fc.array(fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 300 }).map(b => Buffer.concat([u16(b.length), b])),
    fc.tuple(fc.nat(0xffff), fc.uint8Array({ maxLength: 40 })).map(([n, b]) => Buffer.concat([u16(n), b])),
  ), { maxLength: 6 }),
).map(([magic, version, type, parts]) => Uint8Array.from(Buffer.concat([magic, Buffer.from([version, type]), ...parts])))

/** SPEC 3.6: an alert, a well-formed one (any reason) or not. */
const arbAlert: fc.Arbitrary<Uint8Array> = fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 2 }))
  .map(([reason, tail]) => Uint8Array.from(Buffer.concat([MAGIC, Buffer.from([VERSION, 15, reason]), tail])))

/** A message-shaped body: header (mostly right), then fields, some with length prefixes that lie; or an alert. */
export const arbMessage: fc.Arbitrary<Uint8Array> = fc.oneof({ weight: 4, arbitrary: arbFields }, { weight: 1, arbitrary: arbAlert })

export const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), pos: fc.nat(), value: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('length' as const), field: fc.nat(), value: fc.oneof(fc.nat(0xffff), fc.constantFrom(0, 1, 255, 256, 0xffff)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('x25519' as const), point: fc.nat(LOW_ORDER_POINTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ciphers' as const), ids: fc.array(fc.oneof(fc.constantFrom(1, 2), fc.nat(255)), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replace' as const), bytes: arbMessage }) },
)

/**
 * Apply one mutation to a copy of `frame`. Position-based ops on an empty frame, and field ops
 * on a frame too short for the field (after an earlier edit), leave it as is.
 */
export function mutate(frame: Buffer, m: Mutation, fields: Fields = { lengths: [] }): Buffer {
  const out = Buffer.from(frame)
  const n = out.length
  switch (m.op) {
    case 'flip':
      if (n) out[m.pos % n]! ^= 1 << m.bit
      return out
    case 'set':
      if (n) out[m.pos % n] = m.value
      return out
    case 'truncate':
      return n ? out.subarray(0, m.keep % n) : out
    case 'extend':
      return Buffer.concat([out, m.bytes])
    case 'insert': {
      const at = m.pos % (n + 1)
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)])
    }
    case 'delete': {
      if (!n) return out
      const at = m.pos % n
      return Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)])
    }
    case 'length': {
      const field = fields.lengths[m.field % Math.max(fields.lengths.length, 1)]
      if (!field) return n ? mutate(out, { op: 'set', pos: m.field, value: m.value & 0xff }) : out
      const [at, size] = field
      if (at + size > n) return out // an earlier mutation cut the field off
      if (size === 1) out[at] = m.value & 0xff
      else out.writeUInt16BE(m.value & 0xffff, at)
      return out
    }
    case 'x25519':
      if (fields.x25519 !== undefined && fields.x25519 + 32 <= n) LOW_ORDER_POINTS[m.point]!.copy(out, fields.x25519)
      return out
    case 'ciphers': {
      // SPEC 3.1, 3.2: another offer (unknown ids, none, duplicates), the rest of the ClientHello intact.
      const at = fields.cipherList
      if (at === undefined || at >= n || at + 1 + out[at]! > n) return out
      return Buffer.concat([out.subarray(0, at), Buffer.from([m.ids.length, ...m.ids]), out.subarray(at + 1 + out[at]!)])
    }
    case 'replace':
      return Buffer.from(m.bytes)
  }
}

/** SPEC 3.1: ClientHello = header(6) || n || ids(n) || random(32) || x25519(32) || server key id(32) || len || spki || len || secret. */
export function clientHelloFields(frame: Buffer): Fields {
  const n = frame[6] ?? 0
  const x25519 = 7 + n + 32
  const spkiLen = x25519 + 32 + 32 // SPEC 3.1: the server key id follows the X25519 share
  const secretLen = spkiLen + 2 + frame.readUInt16BE(spkiLen)
  return { lengths: [[6, 1], [spkiLen, 2], [secretLen, 2]], x25519, cipherList: 6 }
}

/** SPEC 3.3: ServerHello = header(6) || cipher(1) || random(32) || x25519(32) || len || secrets. */
export function serverHelloFields(): Fields {
  return { lengths: [[6, 1], [71, 2]], x25519: 39 }
}

/** A readable summary of a mutation, for failure reports (byte arrays as hex). */
export function describeMutation(m: Mutation): string {
  return JSON.stringify(m, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)
}
