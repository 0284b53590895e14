/**
 * issue 9, SPEC 7.2, 8.4: one 1 GiB file through the real CLI with flat memory: both processes'
 * VmRSS is sampled every 200 ms and each peak must stay under 200 MB, and the file arrives
 * identical; then the same for the same bytes as one stream (`send -` -> `recv FILE`). The MB/s
 * of both are printed for the issue's note, never asserted. Skipped with a reason when the
 * temporary directory has less than 3 GiB free (the source is sparse; each copy is not).
 */
import t from 'tap'
import { createReadStream, mkdirSync, openSync, closeSync, writeSync, ftruncateSync, readFileSync, rmSync, statfsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeKeys, sha256File, tempDir, type CliProcess, type CliResult } from '../helpers/cli.js'
import { startTransfer, summaryOf } from '../helpers/transfer.js'

t.setTimeout(600_000)

const GIB = 1024 * 1024 * 1024
const MIB = 1024 * 1024
const RSS_LIMIT = 200 * 1000 * 1000
const free = (() => { const s = statfsSync(tmpdir()); return s.bavail * s.bsize })()
const onLinux = process.platform === 'linux'
const skip = !onLinux ? 'VmRSS is read from /proc (Linux only)'
  : free < 3 * GIB ? `only ${(free / GIB).toFixed(1)} GiB free in ${tmpdir()}; this test needs 3 GiB (two 1 GiB copies and slack)` : false

/** A 1 GiB sparse file with random 1 MiB blocks at a few offsets (one unaligned), made in milliseconds. */
function bigFile(path: string): void {
  const fd = openSync(path, 'w')
  try {
    ftruncateSync(fd, GIB)
    for (const at of [0, 256 * MIB, 512 * MIB + 7, GIB - MIB]) writeSync(fd, randomBytes(MIB), 0, MIB, at)
  } finally {
    closeSync(fd)
  }
}

/** VmRSS of `pid` in bytes, or undefined once it is gone. */
function rss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Sample both processes every 200 ms until both exit; the peaks, and the results. */
async function watch(procs: { send: CliProcess, recv: CliProcess }): Promise<{ peak: { send: number, recv: number }, send: CliResult, recv: CliResult, samples: number }> {
  const peak = { send: 0, recv: 0 }
  let samples = 0
  const sample = (): void => {
    samples++
    for (const side of ['send', 'recv'] as const) peak[side] = Math.max(peak[side], rss(procs[side].child.pid!) ?? 0)
  }
  sample()
  const timer = setInterval(sample, 200) // stops when both processes are done (each killed by spawnCli's timeout at worst)
  try {
    const [send, recv] = await Promise.all([procs.send.done, procs.recv.done])
    return { peak, send, recv, samples }
  } finally {
    clearInterval(timer)
  }
}

const mbps = (stderr: string, verb: string): string => /^\S+ .* in [\d.]+ s, ([\d.]+ MB\/s)/m.exec(stderr.split('\n').find(l => l.startsWith(verb)) ?? '')?.[1] ?? '?'

t.test('SPEC 7.2, 8.4: a 1 GiB file arrives identical with flat memory at both ends (peak VmRSS < 200 MB each)', { skip }, async t => {
  const dir = tempDir(t, 'secure-pipe-big-')
  mkdirSync(join(dir, 'keys'))
  const keys = makeKeys(join(dir, 'keys'))
  const src = join(dir, 'big.bin')
  bigFile(src)
  const digest = await sha256File(src)
  const out = join(dir, 'out')
  mkdirSync(out)
  const named = await watch(await startTransfer(t, keys, [out], [src], { timeoutMs: 500_000 }))
  t.equal(named.send.code, 0, named.send.stderr)
  t.equal(named.recv.code, 0, named.recv.stderr)
  t.ok(named.samples >= 2, `memory sampled while it ran (${named.samples} samples)`)
  t.ok(named.peak.send > 0 && named.peak.send < RSS_LIMIT, `sender peak VmRSS ${(named.peak.send / 1e6).toFixed(0)} MB < 200 MB`)
  t.ok(named.peak.recv > 0 && named.peak.recv < RSS_LIMIT, `receiver peak VmRSS ${(named.peak.recv / 1e6).toFixed(0)} MB < 200 MB`)
  t.equal(await sha256File(join(out, 'big.bin')), digest, 'content identical (SHA-256)')
  t.same(summaryOf(named.send.stderr, 'sent'), { files: 1, directories: 0, bytes: GIB, resumed: 0 })
  t.same(summaryOf(named.recv.stderr, 'received'), { files: 1, directories: 0, bytes: GIB, resumed: 0 })
  rmSync(join(out, 'big.bin'))

  // The same bytes as one nameless stream, for comparison (information only).
  const streamed = join(dir, 'stream.out')
  const stream = await watch(await startTransfer(t, keys, [streamed], ['-'], { timeoutMs: 500_000, stdin: createReadStream(src) }))
  t.equal(stream.send.code, 0, stream.send.stderr)
  t.equal(stream.recv.code, 0, stream.recv.stderr)
  t.equal(await sha256File(streamed), digest, 'the stream is identical too')
  // A stream's chunks go on under backpressure, not one by one: memory must stay flat there too.
  t.ok(stream.peak.send > 0 && stream.peak.send < RSS_LIMIT, `stream sender peak VmRSS ${(stream.peak.send / 1e6).toFixed(0)} MB < 200 MB`)
  t.ok(stream.peak.recv > 0 && stream.peak.recv < RSS_LIMIT, `stream receiver peak VmRSS ${(stream.peak.recv / 1e6).toFixed(0)} MB < 200 MB`)
  t.comment(`1 GiB by name: sender ${mbps(named.send.stderr, 'sent')}, receiver ${mbps(named.recv.stderr, 'received')}; peak VmRSS sender ${(named.peak.send / 1e6).toFixed(0)} MB, receiver ${(named.peak.recv / 1e6).toFixed(0)} MB`)
  t.comment(`1 GiB as one stream (send - < file, recv FILE): sender ${mbps(stream.send.stderr, 'sent')}, receiver ${mbps(stream.recv.stderr, 'received')}; peak VmRSS sender ${(stream.peak.send / 1e6).toFixed(0)} MB, receiver ${(stream.peak.recv / 1e6).toFixed(0)} MB`)
})
