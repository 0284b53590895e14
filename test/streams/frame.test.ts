/**
 * Framing (SPEC 2): varint length then body. The decoder must yield exactly the frames however
 * the bytes are cut, check the limit on the prefix before allocating the body, and report a
 * frame cut off by the end of the stream.
 */
import t from 'tap'
import { FrameDecoder, FrameEncoder, frameHeader, type FrameDecoderOptions } from '../../src/framing/frame.js'
import { collect, patterned, randomSizes, rechunk, runThrough, type Outcome, type TapTest } from '../helpers/streams.js'

const SIZES = [1, 127, 128, 16383, 16384, 70000]
const LIMIT = 1 << 20

function framesOf(sizes: readonly number[]): Buffer[] {
  return sizes.map((n, i) => patterned(n, 100 + i))
}

function wireOf(frames: readonly Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap(f => [frameHeader(f.length), f]))
}

/** Feed chunks and read frames synchronously (no end): fast enough to try every split point. */
function decodeNow(d: FrameDecoder, chunks: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = []
  for (const c of chunks) {
    d.write(c)
    for (let f = d.read() as Buffer | null; f !== null; f = d.read() as Buffer | null) out.push(f)
  }
  return out
}

function decode(chunks: readonly Buffer[], opts: FrameDecoderOptions = { limit: LIMIT }): Promise<Outcome & { frames: Buffer[] }> {
  const d = new FrameDecoder(opts)
  const frames: Buffer[] = []
  d.on('data', (f: Buffer) => frames.push(f))
  return runThrough(chunks, [d]).then(o => ({ ...o, frames }))
}

function sameFrames(t: TapTest, got: readonly Buffer[], want: readonly Buffer[], what: string): void {
  t.same(got.map(f => f.length), want.map(f => f.length), `${what}: frame lengths`)
  t.ok(got.length === want.length && got.every((f, i) => f.equals(want[i]!)), `${what}: frame bytes`)
}

t.test('SPEC 2.1: the header is the unsigned LEB128 length (300 bytes -> ac 02)', async t => {
  t.equal(frameHeader(0).toString('hex'), '00')
  t.equal(frameHeader(127).toString('hex'), '7f')
  t.equal(frameHeader(128).toString('hex'), '8001')
  t.equal(frameHeader(300).toString('hex'), 'ac02')
  t.equal(frameHeader(16384).toString('hex'), '808001')
  const body = Buffer.alloc(300, 0x5a)
  const enc = new FrameEncoder()
  const out = collect(enc)
  enc.write(body)
  enc.end([body.subarray(0, 100), body.subarray(100)]) // parts are framed as one body
  t.same(await out, Buffer.concat([Buffer.from('ac02', 'hex'), body, Buffer.from('ac02', 'hex'), body]))
})

t.test('SPEC 2.1: every split point of a stream of frames of 1..70000 bytes yields exactly the frames', async t => {
  const frames = framesOf(SIZES)
  const wire = wireOf(frames)
  // Where each frame body starts on the wire, to check the bytes around a split inside it.
  const starts: number[] = []
  for (let off = 0, i = 0; i < frames.length; i++) {
    off += frameHeader(frames[i]!.length).length
    starts.push(off)
    off += frames[i]!.length
  }
  let bad = 0
  let fullChecks = 0
  const errors: Error[] = []
  for (let split = 0; split <= wire.length; split++) {
    const d = new FrameDecoder({ limit: LIMIT })
    d.on('error', e => errors.push(e))
    const got = decodeNow(d, [wire.subarray(0, split), wire.subarray(split)])
    if (got.length !== frames.length) { bad++; continue }
    // Every 64th split: the whole frames. Otherwise: lengths, ends, and the bytes around the split.
    if (split % 64 === 0) {
      fullChecks++
      if (!got.every((f, i) => f.equals(frames[i]!))) bad++
      continue
    }
    for (let i = 0; i < frames.length; i++) {
      const f = got[i]!
      const w = frames[i]!
      const at = split - starts[i]!
      const probes = [0, 1, 2, w.length - 3, w.length - 2, w.length - 1, at - 2, at - 1, at, at + 1]
      if (f.length !== w.length || probes.some(p => p >= 0 && p < w.length && f[p] !== w[p])) { bad++; break }
    }
  }
  await new Promise(resolve => setImmediate(resolve))
  t.equal(bad, 0, `all ${wire.length + 1} split points decode to the ${frames.length} frames`)
  t.equal(errors.length, 0, 'no decoder failed')
  t.ok(fullChecks > 1600, `${fullChecks} split points compared byte for byte`)
})

t.test('SPEC 2.1: whole, random and 1-byte chunks (with end of stream) yield exactly the frames', async t => {
  const frames = framesOf(SIZES)
  const wire = wireOf(frames)
  for (const [what, chunks] of [
    ['whole', [wire]],
    ['random chunks', rechunk(wire, randomSizes(7, 64, 9000))],
    ['1-byte chunks', rechunk(wire, 1)],
  ] as const) {
    const o = await decode(chunks)
    t.equal(o.error, null, `${what}: no error`)
    t.ok(o.ended, `${what}: ends cleanly at a frame boundary`)
    sameFrames(t, o.frames, frames, what)
  }
})

t.test('SPEC 2.1: empty frames are frames', async t => {
  const frames = framesOf([0, 5, 0])
  const o = await decode(rechunk(wireOf(frames), 1))
  t.equal(o.error, null)
  sameFrames(t, o.frames, frames, 'empty frames kept')
})

t.test('SPEC 2.2: a declared length of 2^40 is ERR_FRAME_TOO_LARGE before any allocation, with no frame', async t => {
  const prefix = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]) // 2^40 as LEB128
  t.same(frameHeader(2 ** 40), prefix, 'the prefix is 2^40')
  const input = Buffer.concat([prefix, Buffer.alloc(4096, 1)])
  // Two code paths: a prefix longer than the limit's own varint, and a prefix read in full then compared.
  for (const limit of [LIMIT, 2 ** 36]) {
    for (const [what, chunks] of [['whole', [input]], ['1-byte chunks', rechunk(input, 1)]] as const) {
      const sizes = spyAllocations()
      const o = await decode(chunks, { limit })
      sizes.restore()
      t.equal(o.error?.code, 'ERR_FRAME_TOO_LARGE', `limit ${limit}, ${what}: ERR_FRAME_TOO_LARGE`)
      t.equal(o.frames.length, 0, `limit ${limit}, ${what}: no frame emitted`)
      t.ok(sizes.max < 1 << 20, `limit ${limit}, ${what}: largest allocation ${sizes.max} bytes`)
    }
  }
})

t.test('SPEC 2.2: the limit is inclusive: limit bytes pass, limit + 1 fail before the body', async t => {
  const limit = 1000
  const ok = await decode([wireOf([Buffer.alloc(limit, 7)])], { limit })
  t.equal(ok.error, null)
  t.equal(ok.frames.length, 1)
  const over = await decode([wireOf([Buffer.alloc(5, 1), Buffer.alloc(limit + 1, 7)])], { limit })
  t.equal(over.error?.code, 'ERR_FRAME_TOO_LARGE')
  t.same(over.frames, [Buffer.alloc(5, 1)], 'only the frame before the oversized one')
})

t.test('SPEC 2.3: a frame cut off by the end of the stream is ERR_TRUNCATED', async t => {
  const body = patterned(300, 1)
  const whole = wireOf([body])
  const cases: [string, Buffer][] = [
    ['half a varint', Buffer.from([0xac])],
    ['the header only', whole.subarray(0, 2)],
    ['one byte short', whole.subarray(0, whole.length - 1)],
    ['a frame then half a frame', Buffer.concat([whole, whole.subarray(0, 150)])],
  ]
  for (const [what, input] of cases) {
    for (const chunks of [[input], rechunk(input, 1)]) {
      const o = await decode(chunks)
      t.equal(o.error?.code, 'ERR_TRUNCATED', `${what} (${chunks.length} chunks): ERR_TRUNCATED`)
      t.notOk(o.ended, `${what}: no clean end`)
      t.equal(o.frames.length, input.length > whole.length ? 1 : 0, `${what}: only complete frames`)
    }
  }
  const empty = await decode([Buffer.alloc(0)])
  t.ok(empty.ended && empty.error === null && empty.frames.length === 0, 'an empty stream ends cleanly with no frame')
})

t.test('SPEC 2.2, 7: the handshake limit applies to the first smallFrames frames only', async t => {
  const opts = { limit: 30_000, smallFrames: 2, smallLimit: 1000 }
  const pass = framesOf([1000, 1000, 1001, 20_000, 30_000])
  for (const chunks of [[wireOf(pass)], rechunk(wireOf(pass), 1)]) {
    const o = await decode(chunks, opts)
    t.equal(o.error, null, `small then large frames pass (${chunks.length} chunks)`)
    sameFrames(t, o.frames, pass, 'all frames')
  }
  for (const [what, sizes, before] of [['first', [1001], 0], ['second', [10, 1001], 1]] as const) {
    const o = await decode([wireOf(framesOf([...sizes, 10]))], opts)
    t.equal(o.error?.code, 'ERR_FRAME_TOO_LARGE', `the ${what} frame over the small limit fails`)
    t.equal(o.frames.length, before, `the ${what} case: only frames before it`)
  }
  const capped = await decode([wireOf(framesOf([501]))], { limit: 500, smallFrames: 2, smallLimit: 1000 })
  t.equal(capped.error?.code, 'ERR_FRAME_TOO_LARGE', 'a small limit above the limit does not raise it')
  const afterwards = await decode([wireOf(framesOf([10, 10, 30_001]))], opts)
  t.equal(afterwards.error?.code, 'ERR_FRAME_TOO_LARGE', 'the main limit still applies afterwards')
})

t.test('SPEC 2.2: after an error the decoder emits nothing more', async t => {
  const d = new FrameDecoder({ limit: 100 })
  const frames: Buffer[] = []
  d.on('data', (f: Buffer) => frames.push(f))
  const errored = new Promise<Error & { code?: string }>(resolve => d.once('error', resolve))
  d.write(wireOf([Buffer.alloc(101)]))
  d.write(wireOf([Buffer.alloc(5)]))
  t.equal((await errored).code, 'ERR_FRAME_TOO_LARGE')
  t.equal(frames.length, 0)
  t.throws(() => new FrameDecoder({ limit: 0 }), RangeError)
})

/** Record the largest Buffer allocation requested while active. */
function spyAllocations(): { max: number, restore(): void } {
  const state = { max: 0, restore: () => {} }
  const alloc = Buffer.alloc
  const allocUnsafe = Buffer.allocUnsafe
  const allocUnsafeSlow = Buffer.allocUnsafeSlow
  Buffer.alloc = ((size: number, ...rest: unknown[]) => { state.max = Math.max(state.max, size); return (alloc as (...a: unknown[]) => Buffer)(size, ...rest) }) as typeof Buffer.alloc
  Buffer.allocUnsafe = ((size: number) => { state.max = Math.max(state.max, size); return allocUnsafe(size) }) as typeof Buffer.allocUnsafe
  Buffer.allocUnsafeSlow = ((size: number) => { state.max = Math.max(state.max, size); return allocUnsafeSlow(size) }) as typeof Buffer.allocUnsafeSlow
  state.restore = () => { Buffer.alloc = alloc; Buffer.allocUnsafe = allocUnsafe; Buffer.allocUnsafeSlow = allocUnsafeSlow }
  return state
}
