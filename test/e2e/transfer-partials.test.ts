/**
 * issue 17 section 4, the README's promise (SPEC 8.6): a receiver that allows resume (the
 * default) keeps the partial file of any cut transfer, also of a plain `send`, so the same
 * `send` again with `--resume` moves only the rest. A partial file left by a killed receiver is
 * listed when a receiver starts on DIR, and `recv --clear-partials AGE` removes the old ones.
 */
import t from 'tap'
import { mkdirSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { listenArgs, makeKeys, sha256File, spawnCli, tempDir, waitForListening, writeRandomFile, type CliResult } from '../helpers/cli.js'
import { cliTransfer, fileMatching, killWhen, summaryOf } from '../helpers/transfer.js'
import { parseAge } from '../../src/cli/partials.js'
import type { TapTest } from '../helpers/streams.js'

t.setTimeout(300_000)

const SIZE = 64 * 1024 * 1024
const PARTIAL = /^\.big\.bin\.[0-9a-f]{16}\.partial$/
const dir = tempDir(t, 'secure-pipe-partials-')
const keys = makeKeys(join(dir, 'keys'))
mkdirSync(join(dir, 'src'))
const src = join(dir, 'src', 'big.bin')
const sha = writeRandomFile(src, SIZE)
let runs = 0

function outDir(): string {
  const out = join(dir, `out-${++runs}`)
  mkdirSync(out)
  return out
}

/** A DIR holding the partial file of big.bin from a plain `send` cut at 1/4 by a SIGKILL of `victim`. */
async function cut(t: TapTest, victim: 'send' | 'recv'): Promise<{ out: string, size: number }> {
  await sha
  const out = outDir()
  const first = await killWhen(t, keys, victim, { dir: out, pattern: PARTIAL, threshold: SIZE / 4 }, [out], [src])
  t.equal(first[victim].signal, 'SIGKILL')
  const partial = fileMatching(out, PARTIAL)
  t.ok(partial, `a plain send cut by a killed ${victim === 'send' ? 'sender' : 'receiver'} leaves its partial file (${partial?.size} bytes)`)
  return { out, size: partial?.size ?? 0 }
}

/** Start `recv --keep-open ...flags DIR`, wait for it to listen, stop it; its stderr. */
async function startAndStop(flags: string[], out: string): Promise<CliResult> {
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', ...flags, '--output-dir', out])
  await waitForListening(recv)
  recv.child.kill('SIGTERM')
  return recv.done
}

for (const victim of ['send', 'recv'] as const) {
  t.test(`issue 17: a plain send cut by a killed ${victim === 'send' ? 'sender' : 'receiver'} is resumed by the same send with --resume`, async t => {
    const { out, size } = await cut(t, victim)
    const again = await cliTransfer(t, keys, [out], ['--resume', src])
    t.equal(again.send.code, 0, again.send.stderr)
    t.equal(summaryOf(again.send.stderr, 'sent')?.resumed, size, 'the partial file is resumed')
    t.equal(summaryOf(again.send.stderr, 'sent')?.bytes, SIZE - size, 'only the rest moved')
    t.equal(await sha256File(join(out, 'big.bin')), await sha)
    t.equal(fileMatching(out, PARTIAL), undefined, 'no partial file is left')
  })
}

t.test('issue 17: a receiver starting on DIR lists the partial files there; --clear-partials AGE removes those older than AGE', async t => {
  const { out } = await cut(t, 'recv')
  const path = join(out, fileMatching(out, PARTIAL)!.name)
  const listed = await startAndStop([], out)
  t.match(listed.stderr, /holds 1 partial file of cut transfers .*send --resume.*--clear-partials AGE/, 'the partial file is mentioned at start')
  t.match(listed.stderr, path, 'by its path')
  const young = await startAndStop(['--clear-partials', '1d'], out)
  t.match(young.stderr, /removed 0 partial files/)
  t.ok(statSync(path).isFile(), 'a partial file younger than AGE is kept')
  const old = (Date.now() - 2 * 86_400_000) / 1000
  utimesSync(path, old, old)
  const cleared = await startAndStop(['--clear-partials', '1d'], out)
  t.match(cleared.stderr, /removed 1 partial file \(/)
  t.throws(() => statSync(path), 'the old partial file is gone')
  t.notMatch(cleared.stderr, /holds \d+ partial/, 'and no longer listed')
})

t.test('issue 17: --clear-partials takes an age (s, m, h, d) and refuses anything else', async t => {
  t.equal(parseAge('0'), 0)
  t.equal(parseAge('7d'), 7 * 86_400_000)
  t.equal(parseAge('12h'), 12 * 3_600_000)
  t.equal(parseAge('3'), 3 * 86_400_000, 'days by default')
  for (const bad of ['', '-1d', '1w', '1.5h', 'soon']) t.throws(() => parseAge(bad), { code: 'ERR_USAGE', message: /--clear-partials takes an age such as 7d/ }, JSON.stringify(bad))
})
