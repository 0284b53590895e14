/**
 * Hostile input to FrameDecoder -> DecryptStage (SPEC 5.3, 5.4, 6): a stream of three data
 * records and a close record, altered in every part, replayed, reordered, dropped, reflected,
 * cut and extended. Each must fail with a typed error, and exactly the plaintext of the records
 * before the bad one may have been released: never a byte of the bad record or anything after.
 */
import t from 'tap'
import { DIRECTION, NONCE_LENGTH, RECORD_TAIL, RECORD_TYPE } from '../../src/constants.js'
import { ccmSeal } from '../../src/crypto/ccm.js'
import { frameHeader } from '../../src/framing/frame.js'
import { recordAad, recordTail } from '../../src/record/format.js'
import { RecordProtector } from '../../src/record/protector.js'
import { openWire, patterned, rechunk, type Outcome, type TapTest } from '../helpers/streams.js'

const KEY = Buffer.from('8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex')
const KEYS = { cipher: 'aes-128-ccm' as const, secret: KEY, direction: DIRECTION.c2s }
const RECORD_SIZE = 1024
// Payloads of 150+ bytes make record frames with two-byte length prefixes.
const PAYLOADS = [patterned(150, 1), patterned(200, 2), patterned(250, 3)]

/** Records sealed in order by one protector: data records for `payloads`, then close unless `close` is false. */
function seal(payloads: readonly Buffer[], opts: { direction?: number, close?: boolean, skip?: number } = {}): Buffer[] {
  const p = new RecordProtector({ cipher: 'aes-128-ccm' as const, secret: Buffer.from(KEY), direction: opts.direction ?? DIRECTION.c2s })
  for (let i = 0; i < (opts.skip ?? 0); i++) p.seal(RECORD_TYPE.data, Buffer.alloc(1))
  const out = payloads.map(pl => Buffer.concat(p.seal(RECORD_TYPE.data, pl)))
  if (opts.close !== false) out.push(Buffer.concat(p.seal(RECORD_TYPE.close, Buffer.alloc(0))))
  return out
}

function frame(records: readonly Buffer[]): Buffer {
  return Buffer.concat(records.flatMap(r => [frameHeader(r.length), r]))
}

/** Plaintext of the first n payloads: all that may be released when record n is bad. */
function before(n: number): Buffer {
  return Buffer.concat(PAYLOADS.slice(0, n))
}

/** Open `wire` whole and in 1-byte chunks; check the code is one of `codes` and exactly `released` came out. */
async function expectFailure(t: TapTest, wire: Buffer, codes: readonly string[], released: Buffer, what: string): Promise<void> {
  for (const [how, chunks] of [['whole', [wire]], ['1-byte', rechunk(wire, 1)]] as const) {
    const o: Outcome = await openWire(chunks, KEYS, RECORD_SIZE)
    const ok = o.error !== null && codes.includes(o.error.code ?? '') && !o.ended && o.data.equals(released)
    t.ok(ok, `${what} (${how}): ${o.error?.code ?? 'no error'}, released ${o.data.length} of ${released.length} expected bytes${o.ended ? ', ENDED' : ''}`)
  }
}

const RECORDS = seal(PAYLOADS)

t.test('SPEC 5: the untouched stream opens (the baseline the other cases alter)', async t => {
  const o = await openWire(rechunk(frame(RECORDS), 1), KEYS, RECORD_SIZE)
  t.equal(o.error, null)
  t.ok(o.ended)
  t.same(o.data, before(3))
  t.equal(o.events, 3, 'one data event per record')
})

t.test('SPEC 5.3, 5.4: a flipped byte in any part of any record is ERR_INTEGRITY, releasing only earlier records', async t => {
  for (let k = 0; k < RECORDS.length; k++) {
    const n = RECORDS[k]!.length - RECORD_TAIL // ciphertext length
    const parts: [string, number][] = [
      ['first ciphertext byte', 0], ['middle ciphertext byte', n >> 1], ['last ciphertext byte', n - 1],
      ["first '@'", n], ['first IV byte', n + 1], ['last IV byte', n + NONCE_LENGTH],
      ["second '@'", n + 1 + NONCE_LENGTH], ['first tag byte', n + 2 + NONCE_LENGTH], ['last tag byte', n + RECORD_TAIL - 1],
    ]
    for (const [part, at] of parts) {
      for (const mask of [0x01, 0x80]) {
        const recs = RECORDS.map(r => Buffer.from(r))
        recs[k]![at]! ^= mask
        await expectFailure(t, frame(recs), ['ERR_INTEGRITY'], before(k), `record ${k}, ${part} ^ 0x${mask.toString(16)}`)
      }
    }
  }
})

t.test('SPEC 2.2, 5.4: a flipped bit in any length prefix is a typed error, releasing only earlier records', async t => {
  const wire = frame(RECORDS)
  let off = 0
  for (let k = 0; k < RECORDS.length; k++) {
    const headerLength = frameHeader(RECORDS[k]!.length).length
    for (let i = 0; i < headerLength; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(wire)
        bad[off + i]! ^= 1 << bit
        await expectFailure(t, bad, ['ERR_INTEGRITY', 'ERR_FRAME_TOO_LARGE', 'ERR_TRUNCATED'], before(k), `record ${k}, prefix byte ${i} bit ${bit}`)
      }
    }
    off += headerLength + RECORDS[k]!.length
  }
})

t.test('SPEC 2.2, 2.3, 5.4: altered lengths give the specific errors', async t => {
  const withLength = (k: number, length: number): Buffer => {
    const recs = RECORDS.map(r => [frameHeader(r.length), r])
    recs[k]![0] = frameHeader(length)
    return Buffer.concat(recs.flat())
  }
  const r2 = RECORDS[2]!.length
  await expectFailure(t, withLength(0, RECORDS[0]!.length - 1), ['ERR_INTEGRITY'], before(0), 'record 0 one byte short')
  await expectFailure(t, withLength(1, RECORDS[1]!.length + 1), ['ERR_INTEGRITY'], before(1), 'record 1 one byte long')
  await expectFailure(t, withLength(0, 0x7f * 128 + 0x7f), ['ERR_FRAME_TOO_LARGE'], before(0), 'record 0 declared 16383 bytes')
  await expectFailure(t, withLength(2, r2 + 40), ['ERR_TRUNCATED'], before(2), 'record 2 declared past the end of the stream')
})

t.test('SPEC 5.3: replayed, reordered, dropped and reflected records are ERR_INTEGRITY', async t => {
  const [r0, r1, r2, close] = RECORDS as [Buffer, Buffer, Buffer, Buffer]
  const reflected = seal(PAYLOADS, { direction: DIRECTION.s2c })
  const cases: [string, Buffer[], number][] = [
    ['record 1 replayed', [r0, r1, r1, r2, close], 2],
    ['record 0 replayed before close', [r0, r1, r2, r0, close], 3],
    ['records 0 and 1 swapped', [r1, r0, r2, close], 0],
    ['records 1 and 2 swapped', [r0, r2, r1, close], 1],
    ['record 0 dropped', [r1, r2, close], 0],
    ['record 1 dropped', [r0, r2, close], 1],
    ['record 1 reflected (sealed for s2c, same key)', [r0, reflected[1]!, r2, close], 1],
    ['close reflected', [r0, r1, r2, reflected[3]!], 3],
    ['the whole stream reflected', reflected, 0],
  ]
  for (const [what, recs, good] of cases) {
    await expectFailure(t, frame(recs), ['ERR_INTEGRITY'], before(good), what)
  }
})

t.test('SPEC 6.2: a stream cut before its close record is ERR_TRUNCATED, never a clean end', async t => {
  const wire = frame(RECORDS)
  const closeStart = wire.length - 1 - RECORDS[3]!.length
  await expectFailure(t, wire.subarray(0, closeStart), ['ERR_TRUNCATED'], before(3), 'cut right before close')
  await expectFailure(t, wire.subarray(0, wire.length - 1), ['ERR_TRUNCATED'], before(3), 'cut inside close')
  await expectFailure(t, wire.subarray(0, 200), ['ERR_TRUNCATED'], before(1), 'cut inside record 1')
  await expectFailure(t, frame(seal(PAYLOADS, { close: false })), ['ERR_TRUNCATED'], before(3), 'a sender that never closed')
  await expectFailure(t, Buffer.alloc(0), ['ERR_TRUNCATED'], before(0), 'an empty stream')
})

t.test('SPEC 6.1: anything after the close record is an error, and the stream never ends cleanly', async t => {
  const four = seal([...PAYLOADS, Buffer.from('late')], { close: false })
  const lateData = seal([...PAYLOADS, Buffer.alloc(0), Buffer.from('late')], { close: false })[4]! // sequence 4
  const p = new RecordProtector({ cipher: 'aes-128-ccm' as const, secret: Buffer.from(KEY), direction: DIRECTION.c2s })
  for (let i = 0; i < 4; i++) p.seal(i < 3 ? RECORD_TYPE.data : RECORD_TYPE.close, i < 3 ? PAYLOADS[i]! : Buffer.alloc(0))
  const secondClose = Buffer.concat(p.seal(RECORD_TYPE.close, Buffer.alloc(0)))
  const any = ['ERR_INTEGRITY', 'ERR_TRUNCATED', 'ERR_FRAME_TOO_LARGE']
  await expectFailure(t, frame([...RECORDS, lateData]), ['ERR_INTEGRITY'], before(3), 'an authentic data record (sequence 4) after close')
  await expectFailure(t, frame([...RECORDS, secondClose]), ['ERR_INTEGRITY'], before(3), 'a second authentic close record')
  await expectFailure(t, frame([...RECORDS, four[3]!]), ['ERR_INTEGRITY'], before(3), 'a data record with the close record\'s sequence number')
  // Bytes after close that are not a whole frame fail in the framing layer first (SPEC 2.2, 2.3),
  // so their code is ERR_TRUNCATED or ERR_FRAME_TOO_LARGE rather than SPEC 6.1's ERR_INTEGRITY.
  await expectFailure(t, Buffer.concat([frame(RECORDS), Buffer.from([0x05])]), any, before(3), 'one stray byte after close')
  await expectFailure(t, Buffer.concat([frame(RECORDS), Buffer.from([0xff, 0xff, 0xff, 0xff])]), any, before(3), 'an oversized length after close')
  await expectFailure(t, Buffer.concat([frame(RECORDS), frame([patterned(40, 9)])]), ['ERR_INTEGRITY'], before(3), 'a garbage frame after close')
  await expectFailure(t, Buffer.concat([frame(RECORDS), frame([Buffer.alloc(0)])]), ['ERR_INTEGRITY'], before(3), 'an empty frame after close')
})

t.test('SPEC 5.1, 8.8: a close record with a payload is ERR_INTEGRITY, and its payload is never released', async t => {
  const p = new RecordProtector({ cipher: 'aes-128-ccm' as const, secret: Buffer.from(KEY), direction: DIRECTION.c2s })
  const recs = PAYLOADS.map(d => Buffer.concat(p.seal(RECORD_TYPE.data, d)))
  const fat = Buffer.concat(p.seal(RECORD_TYPE.close, Buffer.from('hidden')))
  await expectFailure(t, frame([...recs, fat]), ['ERR_INTEGRITY'], before(3), 'a close record carrying 6 bytes')
})

t.test('SPEC 5.4: a record shorter than 31 bytes is ERR_INTEGRITY, even with separators in place and a valid tag', async t => {
  const [r0, , r2, close] = RECORDS as [Buffer, Buffer, Buffer, Buffer]
  for (let len = 0; len < 31; len++) {
    const short = patterned(len, len)
    if (len >= RECORD_TAIL) { short[len - RECORD_TAIL] = 0x40; short[len - RECORD_TAIL + 1 + NONCE_LENGTH] = 0x40 }
    await expectFailure(t, frame([r0, short, r2, close]), ['ERR_INTEGRITY'], before(1), `${len}-byte record`)
  }
  // An authentic record with an empty inner plaintext (no type byte): 30 bytes, tag valid for sequence 1.
  const iv = patterned(NONCE_LENGTH, 77)
  const { ciphertext, tag } = ccmSeal(KEY, iv, Buffer.alloc(0), recordAad(DIRECTION.c2s, 1))
  const empty = Buffer.concat([ciphertext, recordTail(iv, tag)])
  t.equal(empty.length, 30)
  await expectFailure(t, frame([r0, empty, r2, close]), ['ERR_INTEGRITY'], before(1), 'an authentic 30-byte record with no type byte')
})
