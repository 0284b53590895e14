/**
 * record/format.ts (SPEC 5.3, 5.4): the AAD layout and parsing a record by offsets from its end.
 */
import t from 'tap'
import { MIN_RECORD, NONCE_LENGTH, RECORD_TAIL, SEPARATOR, TAG_LENGTH } from '../../../src/constants.js'
import { AAD_LENGTH, parseRecord, recordAad, recordTail, writeRecordAad } from '../../../src/record/format.js'

const IV = Buffer.from('0102030405060708090a0b0c', 'hex')
const TAG = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex')

t.test('SPEC 5.3: AAD = "SPIP" || version || direction || uint64be(seq)', async t => {
  t.equal(AAD_LENGTH, 14)
  const cases: [number, number, string][] = [
    [0, 0, '0000000000000000'],
    [1, 1, '0000000000000001'],
    [0, 2 ** 32 - 1, '00000000ffffffff'],
    [0, 2 ** 32, '0000000100000000'],
    [1, 2 ** 32 + 5, '0000000100000005'],
    [0, Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
  ]
  for (const [direction, seq, hex] of cases) {
    t.equal(recordAad(direction, seq).toString('hex'), `53504950 02 0${direction} ${hex}`.replace(/ /g, ''), `direction ${direction}, seq ${seq}`)
  }
  t.notSame(recordAad(0, 7), recordAad(1, 7), 'the direction is authenticated')
})

t.test('SPEC 5.3: writeRecordAad rewrites every byte of a reused buffer (a protector keeps one for all its records)', async t => {
  const aad = Buffer.alloc(AAD_LENGTH, 0xee)
  for (const [direction, seq] of [[1, 2 ** 32 + 5], [0, 0], [1, 7], [0, Number.MAX_SAFE_INTEGER]] as const) {
    t.equal(writeRecordAad(aad, direction, seq), aad, 'returns the buffer it was given')
    t.same(aad, recordAad(direction, seq), `direction ${direction}, seq ${seq}: nothing of the previous record's AAD remains`)
  }
})

t.test("SPEC 5.4: the tail is '@' || IV || '@' || tag", async t => {
  const tail = recordTail(IV, TAG)
  t.equal(tail.length, RECORD_TAIL)
  t.equal(RECORD_TAIL, 30)
  t.equal(MIN_RECORD, 31)
  t.same(tail, Buffer.concat([Buffer.from([SEPARATOR]), IV, Buffer.from([SEPARATOR]), TAG]))
})

t.test('SPEC 5.4: parseRecord takes the tag, IV and separators at fixed offsets from the end', async t => {
  for (const n of [1, 2, 17, 1000]) {
    // Ciphertext made of '@' bytes: a parser that split on '@' would get it wrong.
    const ciphertext = Buffer.alloc(n, SEPARATOR)
    const record = Buffer.concat([ciphertext, recordTail(IV, TAG)])
    const parts = parseRecord(record)
    t.same(parts.ciphertext, ciphertext, `n=${n}: ciphertext = bytes [0, ${n})`)
    t.same(parts.iv, IV, `n=${n}: IV = bytes [${n + 1}, ${n + 1 + NONCE_LENGTH})`)
    t.same(parts.tag, TAG, `n=${n}: tag = the last ${TAG_LENGTH} bytes`)
    t.equal(parts.iv.byteOffset - record.byteOffset, n + 1, `n=${n}: IV offset (a view, not a copy)`)
    t.equal(parts.tag.byteOffset - record.byteOffset, n + 2 + NONCE_LENGTH, `n=${n}: tag offset`)
  }
  const allAt = Buffer.alloc(40, SEPARATOR)
  t.equal(parseRecord(allAt).ciphertext.length, 10, "a record of nothing but '@' parses by offsets")
})

t.test('SPEC 5.4: short records and misplaced separators are ERR_INTEGRITY', async t => {
  for (let len = 0; len < MIN_RECORD; len++) {
    t.throws(() => parseRecord(Buffer.alloc(len, SEPARATOR)), { code: 'ERR_INTEGRITY' }, `${len} bytes`)
  }
  const good = Buffer.concat([Buffer.from('ct'), recordTail(IV, TAG)])
  for (const at of [2, 2 + 1 + NONCE_LENGTH]) {
    const bad = Buffer.from(good)
    bad[at] = 0x41
    t.throws(() => parseRecord(bad), { code: 'ERR_INTEGRITY' }, `separator at ${at} altered`)
  }
  const shifted = Buffer.concat([good, Buffer.from([SEPARATOR])])
  t.throws(() => parseRecord(shifted), { code: 'ERR_INTEGRITY' }, 'one byte appended: separators no longer at their offsets')
})
