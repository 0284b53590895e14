/**
 * FrameParser in recycling mode (SecureStream's record path, issue 18 item 3): a frame that
 * spans reads is assembled in the memory of a frame given back, never in memory something else
 * still uses. Frames of 1 B to 70 kB (small ones come from Node's shared pool, large ones have
 * memory of their own), fed in seeded random reads; every frame is kept as a copy and compared
 * at the end, so a reuse of memory still in use (a queued frame, a pooled slab) shows up.
 */
import t from 'tap'
import { FrameParser, frameHeader } from '../../src/framing/frame.js'
import { prng, randomSizes, rechunk } from '../helpers/streams.js'

const SIZES = randomSizes(0xfeed, 300, 70_000).map((s, i) => (i % 3 === 0 ? 1 + (s % 3000) : s))

function wireOf(frames: Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap(f => [frameHeader(f.length), f]))
}

t.test('recycled frame memory holds only later frames: every frame arrives intact, queued ones too', async t => {
  const frames = SIZES.map((n, i) => Buffer.alloc(n, (i * 7 + 1) & 0xff))
  const wire = wireOf(frames)
  const next = prng(7)
  for (const hold of [0, 1, 3]) {
    const got: Buffer[] = [] // copies, taken when a frame is handled
    const queue: Buffer[] = []
    const parser = new FrameParser({ limit: 100_000 }, f => queue.push(f), true)
    for (const chunk of rechunk(Buffer.from(wire), randomSizes(hold + 1, 400, 9000))) { // a fresh copy: handled frames are overwritten
      parser.push(chunk)
      // Handle all but `hold` frames (a reader that is behind keeps some waiting), in order.
      while (queue.length > hold || (queue.length > 0 && next() < 0.3)) {
        const f = queue.shift()!
        got.push(Buffer.from(f))
        f.fill(0xee) // what a consumer may do with memory it gave back: it must not reach a later frame
        parser.recycle(f)
      }
    }
    for (const f of queue.splice(0)) got.push(Buffer.from(f))
    parser.end()
    t.equal(got.length, frames.length, `hold ${hold}: every frame`)
    t.ok(got.every((f, i) => f.equals(frames[i]!)), `hold ${hold}: every frame's bytes`)
  }
})
