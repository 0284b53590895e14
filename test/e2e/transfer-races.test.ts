/**
 * issue 17 section 7: receiver checks a careless edit could delete with every test still
 * passing, each now with a test that goes red without it. The proof for a complete file (SPEC
 * 8.6) through the real CLI; and three races on the receiving disk (SPEC 8.7), made
 * deterministic: the sender is the test (StepSender), so it changes the disk between Ready and
 * the plan or between two entries, and the temporary file's name comes from a fixed source.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodePlan, ManifestBudget, resumeId, type Entry, type ReceiveReport, type SecurePipeError } from '../../src/index.js'
import { partialPath, tempNames } from '../../src/transfer/atomic-file.js'
import { makeKeys, tempDir, waitFor } from '../helpers/cli.js'
import { cliTransfer, libReceiver, setMtimeMs, StepSender } from '../helpers/transfer.js'
import type { TapTest } from '../helpers/streams.js'

const dir = realpathSync(tempDir(t, 'secure-pipe-races-'))
const keys = makeKeys(join(dir, 'keys'))
const MTIME = 1_600_000_000_000
let runs = 0

const file = (name: string, size: number): Entry => ({ type: 'file', name, mode: 0o644, mtimeMs: MTIME, size })

/** A fresh DIR and a fresh OUTSIDE beside it (where nothing may ever be written). */
function dirs(): { out: string, outside: string } {
  const out = join(dir, `out-${++runs}`)
  const outside = join(dir, `outside-${runs}`)
  mkdirSync(out)
  mkdirSync(outside)
  return { out, outside }
}

async function failedWith(t: TapTest, result: Promise<ReceiveReport | SecurePipeError>, code: string, message: RegExp): Promise<void> {
  const r = await result
  t.equal((r as SecurePipeError).code, code, `the receiver fails with ${code}: ${(r as Error).message}`)
  t.match((r as Error).message, message)
}

t.test('SPEC 8.6: the receiver holds AAAAAAAA; a sender with BBBBBBBB of the same size and mtime does not get "durable" with --resume, and the old content stays', async t => {
  const out = join(dir, 'proof-out')
  mkdirSync(out)
  mkdirSync(join(dir, 'proof-src'))
  const src = join(dir, 'proof-src', 'f.txt')
  writeFileSync(src, 'AAAAAAAA')
  setMtimeMs(src, MTIME)
  const first = await cliTransfer(t, keys, [out], ['--resume', src]) // this key wrote it: its resume is offered the complete file
  t.equal(first.send.code, 0, first.send.stderr)
  writeFileSync(src, 'BBBBBBBB')
  setMtimeMs(src, MTIME)
  const again = await cliTransfer(t, keys, [out], ['--resume', src])
  t.not(again.send.code, 0, `send does not exit 0: ${again.send.stderr.trim()}`)
  t.notMatch(again.send.stderr, /durable/, 'no "receipt verified: durable"')
  t.match(again.send.stderr, /f\.txt exists with the sender's size and mtime but other content.*\(ERR_USAGE\)/)
  t.not(again.recv.code, 0, 'recv does not exit 0 either')
  t.equal(readFileSync(join(out, 'f.txt'), 'utf8'), 'AAAAAAAA', 'the receiver keeps its own content, and the sender knows it')
})

t.test('SPEC 8.7 (verifyParent): a directory swapped for a link to OUTSIDE after it was checked is caught after the create; nothing stays in OUTSIDE', async t => {
  const { out, outside } = dirs()
  const rx = await libReceiver(t, keys, { kind: 'directory', path: out }, { resume: false })
  const s = await StepSender.connect(rx.port, keys)
  const entries: Entry[] = [{ type: 'directory', name: 'sub', mode: 0o755, mtimeMs: MTIME, size: 0 }, file('sub/a', 4), file('sub/b', 4)]
  t.same(await s.manifest(entries, false), [], 'Ready, no offers')
  s.write(encodePlan([]), Buffer.from('aaaa'))
  await waitFor(() => existsSync(join(out, 'sub', 'a')), 'sub/a in place') // sub/ is checked and cached now
  renameSync(join(out, 'sub'), join(out, 'sub-real'))
  symlinkSync(outside, join(out, 'sub'))
  s.write(Buffer.from('bbbb'))
  const receipt = await s.end()
  await failedWith(t, rx.result, 'ERR_IO', /leads outside the output directory/)
  t.equal(receipt?.error?.code, 'ERR_IO', 'the receipt says ERR_IO')
  t.equal(receipt?.done, 2, 'sub and sub/a are done, sub/b is not')
  t.same(readdirSync(outside), [], 'OUTSIDE is empty: no b, no temporary file')
})

t.test('SPEC 8.7 (O_EXCL): a file planted at the temporary file\'s name (a hard link to a victim) is never written through', async t => {
  const { out, outside } = dirs()
  const victim = join(outside, 'victim')
  writeFileSync(victim, 'VICTIM-CONTENT')
  const fixed = 'abcdef012345'
  const real = tempNames.next
  tempNames.next = () => fixed
  t.teardown(() => { tempNames.next = real })
  linkSync(victim, partialPath(join(out, 'f'), fixed))
  const rx = await libReceiver(t, keys, { kind: 'directory', path: out }, { resume: false })
  const s = await StepSender.connect(rx.port, keys)
  t.same(await s.manifest([file('f', 6)], false), [])
  s.write(encodePlan([]), Buffer.from('EVIL!!'))
  const receipt = await s.end()
  await failedWith(t, rx.result, 'ERR_IO', /cannot create a temporary file next to/)
  t.equal(receipt?.error?.code, 'ERR_IO')
  t.equal(readFileSync(victim, 'utf8'), 'VICTIM-CONTENT', 'the victim is untouched')
  t.notOk(existsSync(join(out, 'f')), 'no f')
})

for (const resume of [false, true]) {
  t.test(`SPEC 8.6, 8.7: a file that appears under the final name during a transfer ${resume ? 'with' : 'without'} flag bit 0 is left alone; the data is discarded with its note (${resume ? 'text' : 'a second link'})`, async t => {
    const { out } = dirs()
    const rx = await libReceiver(t, keys, { kind: 'directory', path: out })
    const s = await StepSender.connect(rx.port, keys)
    t.same(await s.manifest([file('f', 6)], resume), [], 'Ready, no offers')
    writeFileSync(join(out, 'f'), 'PLANTED') // after the pre-Ready check
    s.write(encodePlan([]), Buffer.from('SENT!!'))
    const receipt = await s.end()
    await failedWith(t, rx.result, 'ERR_USAGE', /f appeared during the transfer; it was left untouched/)
    t.equal(receipt?.done, 0, 'nothing is done')
    t.equal(readFileSync(join(out, 'f'), 'utf8'), 'PLANTED', 'the planted file is untouched')
    t.same(readdirSync(out), ['f'], 'no note, no temporary file: nothing keeps the discarded data')
  })
}

t.test('SPEC 8.6, 8.7 (O_NOFOLLOW on reopen): a partial file swapped for a link between Ready and the plan is never written through', async t => {
  const { out, outside } = dirs()
  const victim = join(outside, 'victim')
  writeFileSync(victim, Buffer.alloc(150_000, 'V'))
  const entry = file('big', 200_000)
  const data = randomBytes(entry.size)
  const partial = partialPath(join(out, 'big'), resumeId('race', entry))
  writeFileSync(partial, data.subarray(0, 100_000))
  const rx = await libReceiver(t, keys, { kind: 'directory', path: out }, { senderFingerprint: 'race' })
  const s = await StepSender.connect(rx.port, keys)
  const offers = await s.manifest([entry], true)
  t.same(offers.map(o => [o.index, o.offset]), [[0, 100_000]], 'the partial file is offered')
  rmSync(partial)
  symlinkSync(victim, partial) // after the receiver checked it, before the plan
  s.write(encodePlan([{ index: 0, offset: 100_000 }]), data.subarray(100_000))
  const receipt = await s.end()
  await failedWith(t, rx.result, 'ERR_IO', /cannot create a temporary file next to/)
  t.equal(receipt?.error?.code, 'ERR_IO')
  t.same(readFileSync(victim), Buffer.alloc(150_000, 'V'), 'the victim is untouched')
  t.notOk(existsSync(join(out, 'big')), 'no big')
})

t.test('issue 17 section 3, SPEC 8.2: a second connection whose manifest would go over the process-wide budget gets a refusing receipt with the reason', async t => {
  const { out } = dirs()
  const budget = new ManifestBudget(10, 1_000_000)
  const rx = await libReceiver(t, keys, { kind: 'directory', path: out }, { budget })
  const first = await StepSender.connect(rx.port, keys)
  t.same(await first.manifest([file('a', 1), file('b', 1), file('c', 1), file('d', 1), file('e', 1), file('f', 1)], false), [], 'the first (6 entries) gets Ready and holds them')
  const rx2 = await libReceiver(t, keys, { kind: 'directory', path: out }, { budget })
  const second = await StepSender.connect(rx2.port, keys)
  await t.rejects(second.manifest([file('g', 1), file('h', 1), file('i', 1), file('j', 1), file('k', 1)], false), /"code":"ERR_NETWORK","message":"the receiver is busy: it holds 6 entries for the manifests of this and 1 other transfer\(s\)/)
  await failedWith(t, rx2.result, 'ERR_NETWORK', /the receiver is busy/)
  first.write(encodePlan([]), Buffer.from('abcdef'))
  t.equal((await first.end())?.done, 6, 'the first transfer completes')
  t.equal(budget.held.entries, 0, 'and gives its share back')
})
