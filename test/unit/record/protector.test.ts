/**
 * record/protector.ts (SPEC 5.1-5.3, 5.6, 5.7): one direction's sealing and opening, checked
 * against the SPEC formulas computed here independently with node:crypto.
 */
import t from 'tap'
import { createCipheriv, createHash, hkdfSync } from 'node:crypto'
import { DEFAULT_KEY_UPDATE_INTERVAL, DIRECTION, RECORD_TYPE } from '../../../src/constants.js'
import { frameHeader } from '../../../src/framing/frame.js'
import { RecordProtector, type RecordKeys } from '../../../src/record/protector.js'

/** SPEC 5.2, 5.3: a key expanded from a traffic secret, straight from node:crypto. */
function expand(secret: Buffer, label: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), label, length))
}

function keys(secret: Buffer, direction: number, extra: Partial<RecordKeys> = {}): RecordKeys {
  return { cipher: secret[0] === 0x33 ? 'aes-256-ccm' : 'aes-128-ccm', secret: Buffer.from(secret), direction, ...extra }
}

/** CCM(key, nonce, aad, m) with a 16-byte tag, straight from node:crypto (SPEC 1.2). */
const SPEC_5_7_FRAME = '21a5862e40c3cd0d5ce252a8755b7d8287408755252967aa0a8754b3c5dc27ecae8a'

function ccm(key: Buffer, nonce: Buffer, aad: Buffer, m: Buffer): { ct: Buffer, tag: Buffer } {
  const c = createCipheriv(key.length === 16 ? 'aes-128-ccm' : 'aes-256-ccm', key, nonce, { authTagLength: 16 })
  c.setAAD(aad, { plaintextLength: m.length })
  const ct = c.update(m)
  c.final()
  return { ct, tag: c.getAuthTag() }
}

t.test('SPEC 5.7: the example record (secret 11 x 32, AES-128, direction 0, sequence 0, r = 22 x 12, "hi")', async t => {
  const secret = Buffer.alloc(32, 0x11)
  const r = Buffer.alloc(12, 0x22)
  const p = new RecordProtector(keys(secret, DIRECTION.c2s, { random: n => Buffer.alloc(n, 0x22) }))
  const record = Buffer.concat(p.seal(RECORD_TYPE.data, Buffer.from('hi')))

  // The SPEC formulas, computed independently.
  const key = expand(secret, 'secure-pipe v2 record key', 16) // SPEC 5.3
  const ivKey = expand(secret, 'secure-pipe v2 iv key', 16) // SPEC 5.2
  const iv = ccm(ivKey, r, Buffer.alloc(0), r).ct.subarray(0, 12) // SPEC 5.2
  const aad = Buffer.concat([Buffer.from('SPIP'), Buffer.from([2, 0]), Buffer.alloc(8)]) // SPEC 5.3
  const { ct, tag } = ccm(key, iv, aad, Buffer.from([0x00, 0x68, 0x69])) // SPEC 5.1, 5.3
  const expected = Buffer.concat([ct, Buffer.from([0x40]), iv, Buffer.from([0x40]), tag]) // SPEC 5.4
  t.same(record, expected, 'the record follows the SPEC 5.1-5.4 formulas')
  t.equal(Buffer.concat([frameHeader(record.length), record]).toString('hex'),
    '21' + ct.toString('hex') + '40' + iv.toString('hex') + '40' + tag.toString('hex'),
    'frame: length 33, ciphertext, @, IV, @, 16-byte tag')
  t.equal(Buffer.concat([frameHeader(record.length), record]).toString('hex'), SPEC_5_7_FRAME, 'the bytes printed in SPEC 2.1 and 5.7')
})

t.test('SPEC 5.3: the sequence number counts per record; the direction must match', async t => {
  const secret = Buffer.alloc(32, 0x33)
  const sealer = new RecordProtector(keys(secret, DIRECTION.s2c))
  const recs = [0, 1, 2].map(i => Buffer.concat(sealer.seal(RECORD_TYPE.data, Buffer.from([i]))))
  t.equal(sealer.sequence, 3)
  const opener = new RecordProtector(keys(secret, DIRECTION.s2c))
  t.same(recs.map(r => opener.open(r).payload[0]), [0, 1, 2])
  t.equal(opener.sequence, 3)
  const wrongDirection = new RecordProtector(keys(secret, DIRECTION.c2s))
  t.throws(() => wrongDirection.open(recs[0]!), { code: 'ERR_INTEGRITY' })
  t.equal(wrongDirection.sequence, 0, 'a failed record does not advance the sequence number')
})

t.test('SPEC 5.6: the default key update interval is 65,536 records; bad intervals are refused', async t => {
  t.equal(DEFAULT_KEY_UPDATE_INTERVAL, 65536)
  for (const keyUpdateInterval of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => new RecordProtector(keys(Buffer.alloc(32), 0, { keyUpdateInterval })), RangeError, String(keyUpdateInterval))
  }
})

t.test('SPEC 4.3, 5.6: wipe() zeroes the secret it owns (keys are forgotten); a secret of the wrong size is refused', async t => {
  const secret = Buffer.alloc(32, 0x44)
  const p = new RecordProtector({ cipher: 'aes-128-ccm', secret, direction: 0 })
  p.wipe()
  t.same(secret, Buffer.alloc(32))
  for (const bad of [Buffer.alloc(16), Buffer.alloc(33)]) t.throws(() => new RecordProtector({ cipher: 'aes-128-ccm', secret: bad, direction: 0 }), RangeError)
  t.throws(() => new RecordProtector({ cipher: 'aes-512-ccm' as never, secret: Buffer.alloc(32), direction: 0 }), RangeError)
})

t.test('SPEC 8.5: tagDigest is SHA-256 over the tags of the records sealed, and of those verified, in order', async t => {
  const sealer = new RecordProtector(keys(Buffer.alloc(32, 0x55), DIRECTION.c2s))
  const opener = new RecordProtector(keys(Buffer.alloc(32, 0x55), DIRECTION.c2s))
  const empty = createHash('sha256').digest()
  t.same(sealer.tagDigest, empty, 'no record yet: the hash of nothing')
  const records = ['a', 'bb', ''].map((p, i) => Buffer.concat(sealer.seal(i === 2 ? RECORD_TYPE.close : RECORD_TYPE.data, Buffer.from(p))))
  const h = createHash('sha256')
  for (const r of records) h.update(r.subarray(r.length - 16))
  t.same(sealer.tagDigest, h.digest(), 'the sealer\'s digest, computed here from the record tails')
  for (const r of records.slice(0, 2)) opener.open(r)
  t.notSame(opener.tagDigest, sealer.tagDigest, 'a receiver that has not verified the close record yet disagrees')
  opener.open(records[2]!)
  t.same(opener.tagDigest, sealer.tagDigest, 'after every record: equal')
  const bad = Buffer.from(records[0]!)
  bad[0]! ^= 1
  const fresh = new RecordProtector(keys(Buffer.alloc(32, 0x55), DIRECTION.c2s))
  t.throws(() => fresh.open(bad), { code: 'ERR_INTEGRITY' })
  t.same(fresh.tagDigest, empty, 'a record that failed is not counted')
})
