/**
 * Records (SPEC 5) through the real stages: EncryptStage -> FrameEncoder -> FrameDecoder ->
 * DecryptStage, for boundary sizes around the record size, whole, random and 1-byte chunks,
 * '@' bytes inside ciphertext, and the key update.
 */
import t from 'tap'
import { createCipheriv } from 'node:crypto'
import { DIRECTION, MAX_RECORD_SIZE, RECORD_TAIL, RECORD_TYPE } from '../../src/constants.js'
import { ccmOpen } from '../../src/crypto/ccm.js'
import { EncryptStage } from '../../src/record/encrypt.js'
import { parseRecord, recordAad } from '../../src/record/format.js'
import { RecordProtector, deriveIv, nextTrafficSecret, trafficKeys } from '../../src/record/protector.js'
import { frameHeader } from '../../src/framing/frame.js'
import { openWire, patterned, randomSizes, rechunk, sealToWire, splitFrames, type TapTest, type TestRecordKeys } from '../helpers/streams.js'

const SECRET = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')
const SECRET2 = Buffer.from('202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f', 'hex')
// SPEC 5.2, 5.3: the AES-128 record key and IV key expanded from SECRET.
const { key: KEY16, ivKey: IVKEY16 } = trafficKeys(SECRET, 'aes-128-ccm')
const C2S: TestRecordKeys = { cipher: 'aes-128-ccm', secret: SECRET, direction: DIRECTION.c2s }

/** A deterministic RandomSource: SHA-256 counter bytes (test-only option of RecordProtector). */
function detRandom(seed: number): (n: number) => Buffer {
  let i = 0
  return n => patterned(n, seed * 100_000 + i++)
}

function chunkings(payload: Buffer, recordSize: number, oneByte: boolean): [string, Buffer[]][] {
  const out: [string, Buffer[]][] = [['whole', [payload]], ['random', rechunk(payload, randomSizes(payload.length + recordSize, 32, Math.ceil(recordSize * 1.5)))]]
  if (oneByte) out.push(['1-byte', rechunk(payload, 1)])
  return out
}

/** SPEC 5.5: each write of s bytes becomes ceil(s / R) records of at most R bytes, then one close record. */
function checkRecords(t: TapTest, wire: Buffer, writes: readonly Buffer[], recordSize: number, what: string): void {
  const frames = splitFrames(wire)
  const want = writes.flatMap(w => rechunk(w, recordSize).filter(c => c.length > 0).map(c => c.length + 1 + RECORD_TAIL))
  want.push(1 + RECORD_TAIL)
  const got = frames.map(f => f.length)
  t.ok(got.length === want.length && got.every((n, i) => n === want[i]), `${what}: ${want.length} records of the expected sizes`)
}

async function roundTrip(t: TapTest, keys: TestRecordKeys, recordSize: number, size: number): Promise<void> {
  const payload = patterned(size, size)
  const small = size <= 2 * 1024 + 1
  for (const [writeHow, writes] of chunkings(payload, recordSize, small)) {
    const wire = await sealToWire(writes, keys, recordSize)
    checkRecords(t, wire, writes, recordSize, `R=${recordSize} size ${size} ${writeHow} writes`)
    for (const [wireHow, chunks] of chunkings(wire, recordSize, wire.length <= 8192)) {
      const o = await openWire(chunks, keys, recordSize)
      const ok = o.error === null && o.ended && o.data.equals(payload)
      t.ok(ok, `R=${recordSize} size ${size}: ${writeHow} writes, ${wireHow} wire chunks${o.error ? ` (${o.error.code})` : ''}`)
    }
  }
}

t.test('SPEC 5.5: sizes 0, 1, R-1, R, R+1, 2R round-trip with a 1024-byte record size (AES-128)', async t => {
  const R = 1024
  for (const size of [0, 1, R - 1, R, R + 1, 2 * R]) await roundTrip(t, C2S, R, size)
})

t.test('SPEC 5.5: sizes 0, 1, R-1, R, R+1, 2R round-trip with the default 64 KiB record size (AES-128)', async t => {
  const R = 64 * 1024
  for (const size of [0, 1, R - 1, R, R + 1, 2 * R]) await roundTrip(t, C2S, R, size)
})

t.test('SPEC 5.5: the same sizes with a 32-byte key (AES-256), record sizes 1024 and 64 KiB', async t => {
  const keys: TestRecordKeys = { cipher: 'aes-256-ccm', secret: SECRET2, direction: DIRECTION.s2c }
  for (const R of [1024, 64 * 1024]) {
    for (const size of [0, 1, R - 1, R, R + 1, 2 * R]) {
      const payload = patterned(size, 9)
      const wire = await sealToWire([payload], keys, R)
      checkRecords(t, wire, [payload], R, `AES-256 R=${R} size ${size}`)
      const o = await openWire(rechunk(wire, randomSizes(size, 16, 5000)), keys, R)
      t.ok(o.error === null && o.ended && o.data.equals(payload), `AES-256 R=${R} size ${size} round-trips`)
    }
  }
})

t.test('SPEC 5.5: record sizes outside 1..1 MiB are refused', async t => {
  for (const recordSize of [0, -1, 1.5, MAX_RECORD_SIZE + 1]) {
    t.throws(() => new EncryptStage({ keys: { cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0 }, recordSize }), RangeError, `recordSize ${recordSize}`)
  }
  const one = patterned(5)
  const wire = await sealToWire([one], C2S, 1)
  t.equal(splitFrames(wire).length, 6, 'record size 1: one record per byte, then close')
  t.ok((await openWire([wire], C2S, 1)).data.equals(one))
})

t.test("SPEC 5.4: a record whose ciphertext contains '@' bytes, one right before the separator, decodes", async t => {
  const payload = patterned(40, 3)
  let found: Buffer[] | null = null
  let tries = 0
  // Bounded search over deterministic IVs: about 1 in 256 ends its ciphertext with 0x40.
  for (; tries < 5000 && !found; tries++) {
    const p = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0, random: detRandom(tries) })
    const rec = p.seal(RECORD_TYPE.data, payload)
    const ct = rec[0]!
    if (ct[ct.length - 1] === 0x40 && ct.subarray(0, -1).includes(0x40)) found = [...rec, ...p.seal(RECORD_TYPE.close, Buffer.alloc(0))]
  }
  t.ok(found, `found one in ${tries} tries`)
  const [ct, tail, closeCt, closeTail] = found!
  const record = Buffer.concat([ct!, tail!])
  t.ok(parseRecord(record).ciphertext.equals(ct!), 'parsed by offsets from the end: the ciphertext keeps its @ bytes')
  const wire = Buffer.concat([frameHeader(record.length), record, frameHeader(closeCt!.length + closeTail!.length), closeCt!, closeTail!])
  for (const chunks of [[wire], rechunk(wire, 1)]) {
    const o = await openWire(chunks, C2S)
    t.ok(o.error === null && o.ended && o.data.equals(payload), `decodes (${chunks.length} chunks)`)
  }
})

t.test('SPEC 5.1: the inner plaintext is the type byte then the payload; unknown types and a close with data fail', async t => {
  const sealer = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0 })
  const data = Buffer.concat(sealer.seal(RECORD_TYPE.data, Buffer.from('hello')))
  const close = Buffer.concat(sealer.seal(RECORD_TYPE.close, Buffer.alloc(0)))
  const open = (rec: Buffer, seq: number): Buffer => {
    const { ciphertext, iv, tag } = parseRecord(rec)
    return ccmOpen(KEY16, iv, ciphertext, tag, recordAad(0, seq))
  }
  t.same(open(data, 0), Buffer.from('\x00hello'), 'data: 0x00 || payload')
  t.same(open(close, 1), Buffer.from([1]), 'close: 0x01 alone')
  t.equal(data.length, 1 + 5 + RECORD_TAIL, 'CCM adds no bytes to the ciphertext: record = 1 + payload + 30')

  for (const [what, type, payload] of [['type 2', 2, Buffer.from('x')], ['type 255', 255, Buffer.alloc(0)], ['a close with data', RECORD_TYPE.close, Buffer.from('x')]] as const) {
    const p = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0 })
    const first = Buffer.concat(p.seal(RECORD_TYPE.data, Buffer.from('ok')))
    const bad = Buffer.concat(p.seal(type, payload))
    const wire = Buffer.concat([frameHeader(first.length), first, frameHeader(bad.length), bad])
    const o = await openWire([wire], C2S)
    t.equal(o.error?.code, 'ERR_INTEGRITY', `${what}: ERR_INTEGRITY`)
    t.same(o.data, Buffer.from('ok'), `${what}: only the record before it was released`)
  }
})

t.test('SPEC 5.2: IV = first 12 bytes of AES-CCM(iv key, nonce = r, plaintext = r), fresh per record', async t => {
  const rs: Buffer[] = []
  const random = detRandom(42)
  const p = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0, random: n => { const r = random(n); rs.push(r); return r } })
  const ivs = [0, 1, 2].map(() => parseRecord(Buffer.concat(p.seal(RECORD_TYPE.data, Buffer.from('x')))).iv)
  for (let i = 0; i < 3; i++) {
    const c = createCipheriv('aes-128-ccm', IVKEY16, rs[i]!, { authTagLength: 16 })
    c.setAAD(Buffer.alloc(0), { plaintextLength: rs[i]!.length })
    const expected = c.update(rs[i]!).subarray(0, 12)
    t.same(ivs[i], expected, `record ${i}: IV from r by the SPEC 5.2 formula`)
    t.same(deriveIv(IVKEY16, rs[i]!), expected, `record ${i}: deriveIv agrees`)
  }
  t.equal(new Set(ivs.map(iv => iv.toString('hex'))).size, 3, 'three different IVs')
})

t.test('SPEC 5.6: with keyUpdateInterval 3, 10 records round-trip and the key really changes', async t => {
  const keys: TestRecordKeys = { cipher: 'aes-128-ccm', secret: SECRET, direction: 0, keyUpdateInterval: 3 }
  const writes = Array.from({ length: 10 }, (_, i) => patterned(100 + i, i))
  const wire = await sealToWire(writes, keys, 1024)
  t.equal(splitFrames(wire).length, 11, '10 data records and a close (sequence 10, the fourth key)')
  for (const chunks of [[wire], rechunk(wire, 1)]) {
    const o = await openWire(chunks, keys, 1024)
    t.ok(o.error === null && o.ended && o.data.equals(Buffer.concat(writes)), `round trip (${chunks.length} chunks)`)
  }

  // Same IV source, with and without the key update: records 0-2 are identical, record 3 is not.
  const seal = (interval: number): Buffer[] => {
    const p = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0, keyUpdateInterval: interval, random: detRandom(5) })
    return writes.map(w => Buffer.concat(p.seal(RECORD_TYPE.data, w)))
  }
  const updated = seal(3)
  const stale = seal(1_000_000)
  t.ok([0, 1, 2].every(i => updated[i]!.equals(stale[i]!)), 'records 0-2 are sealed under the original key')
  t.notOk(updated[3]!.equals(stale[3]!), 'record 3 is sealed under another key')

  const opener = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(SECRET), direction: 0, keyUpdateInterval: 3 })
  for (let i = 0; i < 3; i++) opener.open(updated[i]!)
  t.throws(() => opener.open(stale[3]!), { code: 'ERR_INTEGRITY' }, 'a record sealed with seq 3 under the old key fails to open')

  // SPEC 5.6: the next secret is HKDF(old secret, empty salt, "secure-pipe v2 traffic update"); its record key is expanded from it.
  const s1 = nextTrafficSecret(Buffer.from(SECRET))
  const k1 = trafficKeys(s1, 'aes-128-ccm').key
  const k2 = trafficKeys(nextTrafficSecret(s1), 'aes-128-ccm').key
  for (const [seq, key] of [[3, k1], [5, k1], [6, k2]] as const) {
    const { ciphertext, iv, tag } = parseRecord(updated[seq]!)
    t.same(ccmOpen(key, iv, ciphertext, tag, recordAad(0, seq)).subarray(1), writes[seq], `record ${seq} opens under generation ${Math.floor(seq / 3)}`)
  }
  t.notSame(k1, KEY16)
})
