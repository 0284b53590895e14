/**
 * src/transfer's pure modules (SPEC 8): the manifest and entry header, the name rules, the ready
 * and plan messages, the receipt and the resume identity, against the vectors of
 * test/vectors/protocol/transfer-messages.json and against every refusal rule of SPEC 8.2.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ByteQueue } from '../../../src/transfer/bytes.js'
import { encodeEntry, encodeManifest, ManifestDecoder, MAX_ENTRIES, MAX_NAME_BYTES, type Entry } from '../../../src/transfer/entry.js'
import { checkManifest, nameProblem, parentNames } from '../../../src/transfer/safe-path.js'
import { checkReceipt, encodeReceipt, takeReceipt } from '../../../src/transfer/receipt.js'
import { encodePlan, encodeReady, resumeId, takePlan, takeReady } from '../../../src/transfer/resume.js'
import { protocolVectorDir } from '../../auth/vector-schema.js'

const V = JSON.parse(readFileSync(`${protocolVectorDir()}/transfer-messages.json`, 'utf8'))
const hex = (b: Buffer): string => b.toString('hex')
const file = (name: string, over: Partial<Entry> = {}): Entry => ({ type: 'file', name, mode: 0o644, mtimeMs: 0, size: 1, ...over })

/** Feed `bytes` to a fresh decoder one byte at a time: records may split anything anywhere. */
function decodeByteByByte(bytes: Buffer): ReturnType<ManifestDecoder['push']> {
  const d = new ManifestDecoder()
  let got: ReturnType<ManifestDecoder['push']> = null
  for (let i = 0; i < bytes.length && got === null; i++) got = d.push(bytes.subarray(i, i + 1))
  return got
}

t.test('SPEC 8.1 vectors: entry header and manifest encode to the vector bytes and decode back, whatever the split', async t => {
  t.equal(hex(encodeEntry(V.entryHeader.entry)), V.entryHeader.hex)
  const wire = encodeManifest(V.manifest.entries, { resume: V.manifest.resume })
  t.equal(hex(wire), V.manifest.hex)
  t.equal(V.manifest.hex.slice(0, 20), '5350544d' + '01' + '01' + '00000002', "'SPTM', version 1, flags resume, count 2")
  const whole = new ManifestDecoder().push(Buffer.concat([wire, Buffer.from('rest')]))
  t.same(whole?.manifest, { entries: V.manifest.entries, resume: true })
  t.equal(whole?.rest.toString(), 'rest', 'bytes after the manifest are handed back')
  t.same(decodeByteByByte(wire)?.manifest.entries, V.manifest.entries, 'one byte at a time')
})

t.test('SPEC 8.3, 8.5, 8.6 vectors: ready, plan, receipts and the resume identity', async t => {
  const offers = V.ready.offers.map((o: { index: number, offset: number, digest: string }) => ({ ...o, digest: Buffer.from(o.digest, 'hex') }))
  t.equal(hex(encodeReady(offers)), V.ready.hex)
  t.equal(hex(encodePlan(V.plan.steps)), V.plan.hex)
  const q = new ByteQueue()
  q.push(Buffer.from(V.ready.hex, 'hex'))
  t.same(takeReady(q, V.manifest.entries), offers)
  q.push(Buffer.from(V.plan.hex, 'hex'))
  t.same(takePlan(q, offers)?.map(s => ({ index: s.index, offset: s.offset })), V.plan.steps)
  const digest = Buffer.from(V.receipt.digest, 'hex')
  t.equal(hex(encodeReceipt({ ...V.receipt, digest })), V.receipt.hex)
  t.equal(hex(encodeReceipt({ ...V.failureReceipt, digest })), V.failureReceipt.hex)
  for (const r of [V.receipt, V.failureReceipt]) {
    const bytes = Buffer.from(r.hex, 'hex')
    const parts = new ByteQueue()
    let got = null
    for (let i = 0; i < bytes.length && got === null; i++) { parts.push(bytes.subarray(i, i + 1)); got = takeReceipt(parts) }
    t.same(got, { bytes: r.bytes, digest, done: r.done, outcome: r.outcome, ...(r.error ? { error: r.error } : {}) }, 'decoded one byte at a time')
  }
  t.equal(resumeId(V.resumeId.senderFingerprint, V.resumeId), V.resumeId.id)
  t.not(resumeId('SHA256:other', V.resumeId), V.resumeId.id, 'another sender key finds another partial file')
  t.not(resumeId(V.resumeId.senderFingerprint, { ...V.resumeId, mtimeMs: V.resumeId.mtimeMs + 1 }), V.resumeId.id, 'another mtime too')
  t.not(resumeId(V.resumeId.senderFingerprint, { ...V.resumeId, size: V.resumeId.size + 1 }), V.resumeId.id, 'another size too')
})

t.test('SPEC 8.2: every refused name, with ERR_PROTOCOL from checkManifest', async t => {
  const refused: Array<[string, string]> = [
    ['', 'empty'], ['/etc/passwd', 'absolute'], ['..', 'dot-dot'], ['a/../../b', 'dot-dot inside'], ['a//b', 'empty component'],
    ['a/', 'trailing slash'], ['./a', 'dot'], ['a/./b', 'dot inside'], ['a\0b', 'NUL'], ['a\\b', 'backslash'], ['..\\x', 'backslash traversal'],
    ['x'.repeat(256), 'component over 255 bytes'], ['.a.0123456789ab.partial', 'a temporary file\'s name'], ['d/.a.0123456789abcdef.partial', 'a resumable partial file\'s name'], [`${'d/'.repeat(2047)}xy`, 'name over 4095 bytes'], ['é'.repeat(128), '256-byte component in 128 characters'],
  ]
  for (const [name, why] of refused) {
    t.not(nameProblem(name), null, why)
    t.throws(() => checkManifest({ entries: [file(name)], resume: false }), { code: 'ERR_PROTOCOL' }, why)
  }
  for (const ok of ['a', 'a b/ç.txt', '..a', 'a..', '.hidden', 'x'.repeat(255), `${'d/'.repeat(2046)}xyz`]) t.equal(nameProblem(ok), null, JSON.stringify(ok.slice(0, 20)))
  const bad: Array<[string, Entry[]]> = [
    ['two entries with one name', [file('a'), file('a')]],
    ['an entry inside a file', [file('a'), file('a/b')]],
    ['a file listed after an entry inside it', [file('a/b'), file('a')]],
    ['an entry deep inside a file', [file('a/b'), file('a/b/c/d')]],
    ['an entry inside a symlink', [{ ...file('l'), type: 'symlink', size: 3 }, file('l/x')]],
    ['a directory with content', [{ ...file('d'), type: 'directory', size: 1 }]],
    ['a symlink with no target', [{ ...file('l'), type: 'symlink', size: 0 }]],
    ['a stream that is not alone', [{ ...file(''), type: 'stream', size: 0 }, file('b')]],
    ['a stream with a name', [{ ...file('s'), type: 'stream', size: 0 }]],
  ]
  for (const [why, entries] of bad) t.throws(() => checkManifest({ entries, resume: false }), { code: 'ERR_PROTOCOL' }, why)
  t.doesNotThrow(() => checkManifest({ entries: [{ ...file('d'), type: 'directory', size: 0 }, file('d/x'), file('e/f/g')], resume: false }), 'missing parents are fine')
  t.same(parentNames('a/b/c'), ['a', 'a/b'])
})

t.test('SPEC 8.1, 8.2: each refusal says its own reason, and the bounds are exact', async t => {
  t.equal(nameProblem(''), 'is empty')
  t.equal(nameProblem('/etc/passwd'), 'is absolute')
  t.equal(nameProblem('.ab.0123456789ab.partial') !== null, true, 'a temporary shape with a longer NAME')
  t.equal(nameProblem('.a.0123456789ab.partial.txt'), null, 'the temporary shape only at the end of a name')
  t.equal(nameProblem('.a.0123456789ab.done/x'), null, 'nor as a directory on the way')
  const link = (size: number): Entry => ({ ...file('l'), type: 'symlink', size })
  t.doesNotThrow(() => checkManifest({ entries: [link(1)], resume: false }), 'a 1-byte link target')
  t.doesNotThrow(() => checkManifest({ entries: [link(MAX_NAME_BYTES)], resume: false }), `a ${MAX_NAME_BYTES}-byte link target`)
  t.throws(() => checkManifest({ entries: [link(MAX_NAME_BYTES + 1)], resume: false }), { code: 'ERR_PROTOCOL', message: /declares a 4096-byte target/ })
  t.throws(() => checkManifest({ entries: [{ ...file(''), type: 'stream', size: 5 }], resume: false }), { code: 'ERR_PROTOCOL', message: /stream entry must have an empty name and size 0/ }, 'a stream with a size')
  t.doesNotThrow(() => checkManifest({ entries: [{ ...file(''), type: 'stream', size: 0 }], resume: false }), 'a lone nameless stream')
})

t.test('issue 9: showName quotes, escapes C1 controls as \\u00XX and cuts a long name at 200 characters', async t => {
  const { showName } = await import('../../../src/transfer/safe-path.js')
  t.equal(showName('a\u009bb\u007f'), '"a\\u009bb\\u007f"')
  t.equal(showName('x'.repeat(200)), `"${'x'.repeat(200)}"`, '200 characters: whole')
  t.equal(showName('x'.repeat(201)), `"${'x'.repeat(200)}..."`, '201: cut, with an ellipsis')
})

t.test('SPEC 8.1, 8.2: the decoder refuses bad headers and limits before allocating for them', async t => {
  const head = (count: number, flags = 0, version = 1): Buffer => {
    const b = Buffer.from('5350544d0000000000', 'hex')
    b[4] = version; b[5] = flags
    return Buffer.concat([b.subarray(0, 6), Buffer.from([count >>> 24, (count >>> 16) & 255, (count >>> 8) & 255, count & 255])])
  }
  const entryBytes = (patch: (b: Buffer) => void, name = Buffer.from('a')): Buffer => {
    const b = encodeEntry(file('x'.repeat(name.length)))
    name.copy(b, 21)
    patch(b)
    return b
  }
  const cases: Array<[string, Buffer]> = [
    ['another magic', Buffer.concat([Buffer.from('XPTM'), head(1).subarray(4)])],
    ['version 2', head(1, 0, 2)],
    ['an unknown flag', head(1, 2)],
    [`more than ${MAX_ENTRIES} entries`, head(MAX_ENTRIES + 1)],
    ['an unknown type', Buffer.concat([head(1), entryBytes(b => { b[0] = 9 })])],
    ['a setuid mode', Buffer.concat([head(1), entryBytes(b => b.writeUInt16BE(0o4755, 1))])],
    ['a sticky mode', Buffer.concat([head(1), entryBytes(b => b.writeUInt16BE(0o1777, 1))])],
    ['a size above 2^53 - 1', Buffer.concat([head(1), entryBytes(b => b.writeBigUInt64BE(2n ** 53n, 11))])],
    ['a name that is not UTF-8', Buffer.concat([head(1), entryBytes(() => {}, Buffer.from([0x61, 0xff, 0x62]))])],
    ['a 4096-byte name length', Buffer.concat([head(1), entryBytes(b => b.writeUInt16BE(4096, 19))])],
  ]
  for (const [why, bytes] of cases) t.throws(() => new ManifestDecoder().push(bytes), { code: 'ERR_PROTOCOL' }, why)
  t.equal(new ManifestDecoder().push(head(MAX_ENTRIES)), null, 'a count at the limit waits for its entries')
})

t.test('SPEC 8.3: a ready message or plan that does not fit is ERR_PROTOCOL', async t => {
  const entries = [file('a', { size: 10 }), { ...file('d'), type: 'directory' as const, size: 0 }, file('b', { size: 10 })]
  const d = Buffer.alloc(32)
  const ready = (offers: Array<{ index: number, offset: number }>): ByteQueue => { const q = new ByteQueue(); q.push(encodeReady(offers.map(o => ({ ...o, digest: d })))); return q }
  for (const [why, offers] of [
    ['an offer beyond the size', [{ index: 0, offset: 11 }]],
    ['an offer of 0 bytes', [{ index: 0, offset: 0 }]],
    ['an offer for a directory', [{ index: 1, offset: 1 }]],
    ['an offer for no entry', [{ index: 3, offset: 1 }]],
    ['offers out of order', [{ index: 2, offset: 1 }, { index: 0, offset: 1 }]],
    ['two offers for one entry', [{ index: 0, offset: 1 }, { index: 0, offset: 2 }]],
  ] as const) t.throws(() => takeReady(ready([...offers]), entries), { code: 'ERR_PROTOCOL' }, why)
  const q = new ByteQueue()
  q.push(Buffer.from('SPRY\xff\xff\xff\xff', 'latin1'))
  t.throws(() => takeReady(q, entries), { code: 'ERR_PROTOCOL' }, 'a count above the entries is refused before waiting for it')
  const offers = [{ index: 0, offset: 5, digest: d }]
  for (const [why, steps] of [
    ['another offset', [{ index: 0, offset: 4 }]],
    ['another index', [{ index: 2, offset: 5 }]],
    ['too many steps', [{ index: 0, offset: 5 }, { index: 2, offset: 0 }]],
  ] as const) {
    const p = new ByteQueue()
    p.push(encodePlan([...steps]))
    t.throws(() => takePlan(p, offers), { code: 'ERR_PROTOCOL' }, why)
  }
  const p = new ByteQueue()
  p.push(encodePlan([{ index: 0, offset: 0 }]))
  t.same(takePlan(p, offers), [{ index: 0, offset: 0, digest: Buffer.alloc(32) }], 'restarting at 0 is always allowed')
  const proof = Buffer.alloc(32, 9)
  const c = new ByteQueue()
  c.push(encodePlan([{ index: 0, offset: 5, digest: proof }]))
  t.same(takePlan(c, offers)?.[0]?.digest, proof, 'a step carries the sender\'s proof for a complete-file offer (SPEC 8.6)')
  // issue 17: with two or more steps, each step's digest is exactly its own 32 bytes.
  const many = [0, 2, 3].map(index => ({ index, offset: 5, digest: Buffer.alloc(32, index + 1) }))
  const m = new ByteQueue()
  m.push(encodePlan(many))
  t.same(takePlan(m, many), many, 'three steps: each carries its own 32-byte proof')
  const unasked = new ByteQueue()
  unasked.push(encodeReady([{ index: 0, offset: 1, digest: d }]))
  t.throws(() => takeReady(unasked, entries, false), { code: 'ERR_PROTOCOL' }, 'offers a sender did not ask for are refused')
})

t.test('SPEC 8.5.2: a receipt is accepted only with every entry done and the count and tag digest sent', async t => {
  const digest = Buffer.alloc(32, 7)
  const good = { bytes: 100, digest, done: 3, outcome: 'durable' as const }
  t.doesNotThrow(() => checkReceipt(good, { bytes: 100, digest, entries: 3 }))
  t.throws(() => checkReceipt({ ...good, done: 2 }, { bytes: 100, digest, entries: 3 }), { code: 'ERR_RECEIPT' }, 'an entry missing')
  t.throws(() => checkReceipt({ ...good, bytes: 99 }, { bytes: 100, digest, entries: 3 }), { code: 'ERR_RECEIPT' }, 'count')
  t.throws(() => checkReceipt({ ...good, digest: Buffer.alloc(32) }, { bytes: 100, digest, entries: 3 }), { code: 'ERR_RECEIPT' }, 'tag digest')
  const q = new ByteQueue()
  q.push(Buffer.from('XPRC' + '\0'.repeat(60), 'latin1'))
  t.throws(() => takeReceipt(q), { code: 'ERR_RECEIPT' }, 'not a receipt')
  const long = encodeReceipt({ ...good, error: { code: 'ERR_IO', message: 'é'.repeat(2000) } })
  const r = new ByteQueue()
  r.push(long)
  t.ok(Buffer.byteLength(takeReceipt(r)!.error!.message) <= 1024, 'a long message is cut at 1024 bytes, on a character boundary')
})

t.test('issue 9: names and reasons from a peer never reach the terminal as control characters', async t => {
  const { sha256Line, showName } = await import('../../../src/transfer/safe-path.js')
  const { oneLine } = await import('../../../src/cli/report.js')
  t.equal(sha256Line('ab', 'plain name.txt'), 'ab  plain name.txt', 'as sha256sum prints it')
  t.equal(sha256Line('ab', 'evil\n\x1b[2Jname\\x'), '\\ab  evil\\n\\x1b[2Jname\\\\x', 'escaped, with the leading backslash sha256sum uses')
  t.notMatch(showName('a\x1b]0;title\x07\u009bb'), /[\u0000-\u001f\u007f-\u009f]/, 'showName escapes C0 and C1 controls')
  t.equal(oneLine('line one\n\x1b[31mred'), 'line one; \\x1b[31mred', 'oneLine shows other control characters as visible escapes (cli/visible.ts)')
})

t.test('SPEC 8.6, 8.8 (issue 17): the resume identity hashes the OpenSSH fingerprint as ASCII, the name, size and mtime', async t => {
  const { createHash } = await import('node:crypto')
  const fp = 'SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg'
  const numbers = Buffer.from('0000000000000005' + '00000174876e8000', 'hex') // size 5, mtime 1,600,000,000,000 ms
  const want = createHash('sha256').update(Buffer.concat([Buffer.from('secure-pipe resume v1\0' + fp + '\0' + 'dir/a.txt' + '\0'), numbers])).digest().subarray(0, 8).toString('hex')
  t.equal(resumeId(fp, { name: 'dir/a.txt', size: 5, mtimeMs: 1_600_000_000_000 }), want)
})

t.test('SPEC 8.2, 8.8 (issue 17): partial and note shapes are refused in either case; NFC and NFD names are two entries; an unlisted parent is accepted', async t => {
  for (const name of ['.a.ABCDEF012345.partial', 'd/.a.0123456789abcdef.done', '.x.0123456789ABCDEF.PARTIAL']) t.match(nameProblem(name), /temporary, partial and resume files/, name)
  t.equal(nameProblem('a.0123456789abcdef.done'), null, 'without the leading dot it is an ordinary name')
  const nfc = 'caf\u00e9', nfd = 'cafe\u0301'
  t.doesNotThrow(() => checkManifest({ entries: [file(nfc), file(nfd)], resume: false }), 'byte-wise: two different names')
  t.doesNotThrow(() => checkManifest({ entries: [file('unlisted/deep/a')], resume: false }), 'parents need not be listed')
  t.throws(() => checkManifest({ entries: [file('x'), file('x/y/z')], resume: false }), { code: 'ERR_PROTOCOL', message: /lies inside "x", which the sender lists as a file/ }, 'a file on the way, two levels up')
  t.throws(() => checkManifest({ entries: [file('x/y/z'), file('x')], resume: false }), { code: 'ERR_PROTOCOL', message: /lies inside "x"/ }, 'in either order')
})
