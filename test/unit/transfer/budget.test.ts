/**
 * issue 17 section 3, SPEC 8.2: the manifests of concurrent transfers draw on one budget per
 * process. A manifest is charged before anything is allocated for it (its count at its head,
 * its names as they arrive); one beside others that would go over is refused with the reason;
 * one alone may use the whole per-manifest limit; a finished transfer gives its share back.
 */
import t from 'tap'
import { encodeManifest, ManifestBudget, ManifestDecoder, type Entry } from '../../../src/index.js'

const files = (n: number, name = 'f'): Entry[] => Array.from({ length: n }, (_, i) => ({ type: 'file', name: `${name}${i}`, mode: 0o644, mtimeMs: 0, size: 1 }))

t.test('SPEC 8.2: a manifest beside others over the process-wide entry budget is refused with its reason; alone, it is taken', async t => {
  const budget = new ManifestBudget(10, 1000)
  const a = budget.open()
  t.ok(new ManifestDecoder(a).push(encodeManifest(files(8), { resume: false })), 'the first manifest (8 entries) is taken')
  const b = budget.open()
  t.throws(() => new ManifestDecoder(b).push(encodeManifest(files(5), { resume: false })), { code: 'ERR_NETWORK', message: /the receiver is busy: it holds 8 entries for the manifests of this and 1 other transfer\(s\), and 5 entries would pass the 10 entries it holds at once \(SPEC 8\.2\)/ })
  t.same(budget.held, { entries: 8, names: 16, manifests: 2 }, 'the refused manifest holds nothing')
  b.close()
  a.close()
  t.same(budget.held, { entries: 0, names: 0, manifests: 0 }, 'a finished transfer gives its share back')
  const alone = budget.open()
  t.ok(new ManifestDecoder(alone).push(encodeManifest(files(50), { resume: false })), 'alone, a manifest over the shared budget is taken (the per-manifest limit still applies)')
  const idle = budget.open()
  t.same(budget.held.entries, 50, 'a connection whose manifest has not arrived holds nothing')
  idle.close()
  alone.close()
})

t.test('SPEC 8.2: name bytes are charged as they arrive, before the entry is decoded', async t => {
  const budget = new ManifestBudget(1000, 100)
  const a = budget.open()
  new ManifestDecoder(a).push(encodeManifest(files(1, 'x'.repeat(90)), { resume: false }))
  const b = budget.open()
  const d = new ManifestDecoder(b)
  const wire = encodeManifest(files(3, 'y'.repeat(5)), { resume: false })
  t.equal(d.push(wire.subarray(0, 40)), null, 'the first entry (6 name bytes) is within the budget')
  t.throws(() => d.push(wire.subarray(40)), { code: 'ERR_NETWORK', message: /it holds 97 bytes of names for the manifests of this and 1 other transfer\(s\), and 6 more bytes of names would pass the 100 bytes of names/ })
  a.close()
  b.close()
})
