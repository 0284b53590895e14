/**
 * Record fuzz target (issue 5): FrameDecoder -> DecryptStage over a sealed wire (random writes,
 * record sizes, key-update intervals) that is altered frame by frame (drop, duplicate, swap,
 * a false or non-minimal length) and byte by byte, then fed in random chunks.
 */
import fc from 'fast-check'
import { Readable, pipeline, type Duplex } from 'node:stream'
import { MAX_RECORD_SIZE, recordFrameLimit } from '../../src/constants.js'
import { FrameDecoder, frameHeader } from '../../src/framing/frame.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import { rechunk, sealToWire, settle, splitFrames } from '../helpers/streams.js'
import { RUN_TIMEOUT_MS, judge, type Stats } from './judge.js'
import { arbMutation, describeMutation, mutate, type Mutation } from './mutate.js'

export type FrameOp =
  | { op: 'drop', frame: number }
  | { op: 'duplicate', frame: number }
  | { op: 'swap', frame: number }
  | { op: 'declare', frame: number, length: number }
  | { op: 'nonMinimal', frame: number }

export interface RecordPlan {
  writes: Uint8Array[]
  recordSize: number
  keyUpdateInterval: number | null
  frameOps: FrameOp[]
  byteOps: Mutation[]
  /** Sizes the wire is cut into before it is fed. */
  chunks: number[]
}

const arbFrameOp: fc.Arbitrary<FrameOp> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), frame: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), frame: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), frame: fc.nat() }),
  fc.record({ op: fc.constant('declare' as const), frame: fc.nat(), length: fc.oneof(fc.nat(400), fc.constantFrom(0, 30, 31, recordFrameLimit(MAX_RECORD_SIZE), recordFrameLimit(MAX_RECORD_SIZE) + 1, 2 ** 21, 2 ** 32 - 1)) }),
  fc.record({ op: fc.constant('nonMinimal' as const), frame: fc.nat() }),
)

export const arbRecordPlan: fc.Arbitrary<RecordPlan> = fc.record({
  writes: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }),
  recordSize: fc.integer({ min: 1, max: 256 }),
  keyUpdateInterval: fc.option(fc.integer({ min: 1, max: 4 })),
  frameOps: fc.array(arbFrameOp, { maxLength: 2 }),
  byteOps: fc.array(arbMutation, { maxLength: 3 }),
  chunks: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 4 }),
})

export function describeRecordPlan(p: RecordPlan): string {
  return JSON.stringify({ ...p, writes: p.writes.map(w => Buffer.from(w).toString('hex')), byteOps: p.byteOps.map(m => JSON.parse(describeMutation(m)) as unknown) })
}

/** A varint, possibly padded to a longer (non-minimal) encoding with 0x80 continuation bytes. */
function varint(n: number, pad = false): Buffer {
  const h = frameHeader(n)
  if (!pad) return h
  const out = Buffer.concat([h, Buffer.from([0])])
  out[h.length - 1]! |= 0x80
  return out
}

function applyFrameOps(wire: Buffer, ops: readonly FrameOp[]): Buffer {
  const frames = splitFrames(wire).map(body => ({ body, header: varint(body.length) }))
  for (const o of ops) {
    if (frames.length === 0) break
    const i = o.frame % frames.length
    if (o.op === 'drop') frames.splice(i, 1)
    else if (o.op === 'duplicate') frames.splice(i, 0, { ...frames[i]! })
    else if (o.op === 'swap' && i + 1 < frames.length) [frames[i], frames[i + 1]] = [frames[i + 1]!, frames[i]!]
    else if (o.op === 'declare') frames[i] = { ...frames[i]!, header: varint(o.length) }
    else if (o.op === 'nonMinimal') frames[i] = { ...frames[i]!, header: varint(frames[i]!.body.length, true) }
  }
  return Buffer.concat(frames.flatMap(f => [f.header, f.body]))
}

const RECORD_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')

export async function runRecordTarget(plan: RecordPlan, stats?: Stats): Promise<void> {
  const keys = () => ({ cipher: 'aes-128-ccm' as const, secret: Buffer.from(RECORD_KEY), direction: 0, ...(plan.keyUpdateInterval ? { keyUpdateInterval: plan.keyUpdateInterval } : {}) })
  const writes = plan.writes.map(w => Buffer.from(w))
  const wire = await sealToWire(writes.length ? writes : [Buffer.alloc(0)], keys(), plan.recordSize)
  let altered = applyFrameOps(wire, plan.frameOps)
  for (const m of plan.byteOps) altered = mutate(altered, m)
  const decoder = new FrameDecoder({ limit: recordFrameLimit(MAX_RECORD_SIZE) })
  const decrypt = new DecryptStage({ keys: keys() })
  const outcome = settle(decrypt, RUN_TIMEOUT_MS)
  pipeline(Readable.from(rechunk(altered, plan.chunks), { objectMode: false }), decoder, decrypt as Duplex, () => {})
  judge(await outcome, !altered.equals(wire), Buffer.concat(writes), stats)
}
