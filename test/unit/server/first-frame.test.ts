/**
 * FirstFrame (src/server/first-frame.ts, issue 17 section 1): a waiting connection asks for a
 * handshake slot only once its first frame (SPEC 2.1: varint length, then the body) is whole, or
 * once what it sent can only be refused (a length over the handshake limit, a prefix longer than
 * 3 bytes). Checked for every way of cutting a frame into chunks.
 */
import t from 'tap'
import fc from 'fast-check'
import { HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES } from '../../../src/constants.js'
import { frameHeader } from '../../../src/framing/frame.js'
import { FirstFrame, HELD_LIMIT } from '../../../src/server/first-frame.js'

/** Feed `bytes` to a new FirstFrame cut at `cuts`; the index of the first chunk after which it was decidable, or -1. */
function feed(bytes: Buffer, cuts: number[]): { decidedAfter: number, held: FirstFrame } {
  const held = new FirstFrame()
  const at = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
  let start = 0
  for (const end of [...at, bytes.length]) {
    if (end <= start) continue
    if (held.add(bytes.subarray(start, end))) return { decidedAfter: end, held }
    start = end
  }
  return { decidedAfter: -1, held }
}

t.test('HELD_LIMIT is the handshake frames\' worth: prefix and body of each', async t => {
  t.equal(HELD_LIMIT, HANDSHAKE_FRAMES * (3 + HANDSHAKE_FRAME_LIMIT))
})

t.test('a frame within the limit is decidable exactly when its last byte arrives, however it is cut', async t => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: HANDSHAKE_FRAME_LIMIT }), fc.array(fc.nat(), { maxLength: 6 }), fc.nat({ max: 40 }),
    (length, cuts, extra) => {
      const frame = Buffer.concat([frameHeader(length), Buffer.alloc(length, 0xa5)])
      const whole = feed(frame, cuts)
      if (whole.decidedAfter !== frame.length) return false
      // One byte short is never decidable; with bytes after it (a pipelined message) it is.
      if (feed(frame.subarray(0, frame.length - 1), cuts).decidedAfter !== -1) return false
      const more = feed(Buffer.concat([frame, Buffer.alloc(extra, 1)]), cuts)
      return more.decidedAfter >= frame.length
    }), { numRuns: 300 })
  const big = Buffer.concat([frameHeader(HANDSHAKE_FRAME_LIMIT), Buffer.alloc(HANDSHAKE_FRAME_LIMIT)])
  t.equal(feed(big, [1, 2, 100]).decidedAfter, big.length, 'a frame of exactly the limit waits for all of it')
  const held = feed(big, [1]).held
  t.equal(held.bytes, big.length)
  t.same(held.take(), big, 'take gives back every byte held, in order')
  t.equal(held.bytes, 0, 'and holds nothing after')
})

t.test('what can only be refused is decidable at once: a length over the limit, a 4-byte prefix', async t => {
  const over = frameHeader(HANDSHAKE_FRAME_LIMIT + 1)
  t.equal(feed(over, []).decidedAfter, over.length, 'a length over the handshake limit: as soon as the prefix is whole')
  t.equal(feed(over, [1]).decidedAfter, over.length, 'also when the prefix comes a byte at a time')
  t.equal(feed(frameHeader(2 ** 40), [1, 2, 3]).decidedAfter, 3, 'a prefix longer than 3 bytes: at its third byte')
  t.equal(new FirstFrame().add(Buffer.from([0x80, 0x80])), false, 'two continuation bytes: not yet')
  t.equal(new FirstFrame().add(Buffer.from([0x80])), false, 'one continuation byte: not yet')
  t.equal(new FirstFrame().add(Buffer.from([0x00])), true, 'an empty frame is whole at its prefix')
})

t.test('every input is decidable by 3 + HANDSHAKE_FRAME_LIMIT bytes, under HELD_LIMIT (where the listener pauses)', async t => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 3, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 4 }), (head, cuts) => {
    const bytes = Buffer.concat([Buffer.from(head), Buffer.alloc(3 + HANDSHAKE_FRAME_LIMIT - 3, 7)])
    const d = feed(bytes, cuts).decidedAfter
    return d > 0 && d <= bytes.length
  }), { numRuns: 200 })
  t.ok(3 + HANDSHAKE_FRAME_LIMIT < HELD_LIMIT)
})
