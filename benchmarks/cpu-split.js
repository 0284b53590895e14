#!/usr/bin/env node
// node benchmarks/cpu-split.js [--checkout DIR] [--mib N] [--rounds R] [--cipher aes-128-ccm]
// CPU-seconds per GiB of each CLI end (`send FILE` -> `recv /dev/null` over 127.0.0.1), split
// into AES-CCM, hashing, syscalls, copies, GC and the rest from a `node --cpu-prof` profile of
// each end. The total (user + sys, all threads) comes from /usr/bin/time on a run without the
// profiler; a second, profiled run gives the shares: the profile samples only the main thread,
// so its busy share is spread over the total in proportion, and what the
// profile cannot see (libuv's thread pool reading the file, the kernel's share of a socket read
// done outside JS) lands in the category whose JS call started it or in "rest". For before/after
// figures: run it on each checkout alternately (issue 11). `npm run bench` runs it as section cpu.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { median } from './lib/stats.js'

/**
 * Category of one profile node's self time, by its function and script. Native calls made from
 * JS (cipher.update, a socket write) are sampled as the binding or the JS function that made
 * them, so Node's internals name them. 'copies' is Buffer allocation and copying; 'native' is
 * time outside any JS (V8's "(program)": the event loop, socket reads done by libuv before JS
 * sees the data); 'rest' is everything else (streams, the library's own JS, start-up left over).
 */
export function category(fn, url) {
  if (fn === '(idle)') return 'idle'
  if (fn === '(garbage collector)') return 'gc'
  if (fn === '(program)') return 'native'
  if (/internal\/crypto\/(cipher|keys|util)/.test(url) || (/\/(ccm)\.js$/.test(url))) return 'aes-ccm'
  if (/internal\/crypto\/(hash|hkdf|random)/.test(url)) return 'hashing'
  // Native bindings (no script): socket and file system calls.
  if (url === '' && /^(writev|writeBuffer|writeBuffers|writeString|writeUtf8String|writeLatin1String|read|open|close|fstat|readStart|readStop|shutdown|openFileHandle)$/.test(fn)) return 'syscalls'
  if (/internal\/(stream_base_commons|fs\/)|^node:fs$|^node:net$/.test(url)) return 'syscalls'
  if (/^(concat|copy|_copy|_copyActual|allocUnsafe|allocUnsafeSlow|alloc|createUnsafeBuffer|createUnsafeArrayBuffer|FastBuffer)$/.test(fn) || /^node:buffer$/.test(url)) return 'copies'
  return 'rest'
}

function split(profilePath) {
  const p = JSON.parse(readFileSync(profilePath, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const dt = new Map()
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) || 0) + (p.timeDeltas[i] || 0))
  const sums = {}
  for (const [id, us] of dt) {
    const n = byId.get(id)
    const c = category(n.callFrame.functionName, n.callFrame.url)
    sums[c] = (sums[c] || 0) + us
  }
  return sums
}

const CATS = ['aes-ccm', 'hashing', 'syscalls', 'copies', 'gc', 'native', 'rest']

async function cliRun({ checkout, mib, cipher, profile }) {
  const CLI = join(checkout, 'bin', 'secure-pipe.js')
  const W = mkdtempSync(join(tmpdir(), 'sp-cpu-'))
  try {
    const node = process.execPath
    for (const name of ['server', 'client']) spawnSync(node, [CLI, 'keygen', '--name', name, '--out', join(W, 'keys')], { stdio: 'ignore' })
    spawnSync('sh', ['-c', `head -c ${mib * 1048576} /dev/urandom > ${join(W, 'data.bin')}`])
    const rx = spawn('/usr/bin/time', ['-f', '%U %S %e %M', '-o', join(W, 'rx.time'), node, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(W, 'rx')}`] : []), CLI,
      'recv', '--listen', '127.0.0.1:0', '--key', join(W, 'keys', 'server.pem'), '--authorized', join(W, 'keys', 'clientPK.pem'), '--quiet', '--force', '/dev/null'],
    { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    return await new Promise((done, fail) => {
      rx.stderr.on('data', (d) => {
        err += d
        const m = /listening on [0-9.]+:(\d+)/.exec(err)
        if (!m || rx.started) return
        rx.started = true
        const tx = spawnSync('/usr/bin/time', ['-f', '%U %S %e %M', '-o', join(W, 'tx.time'), node, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(W, 'tx')}`] : []), CLI,
          'send', '--connect', `127.0.0.1:${m[1]}`, '--key', join(W, 'keys', 'client.pem'), '--server-key', join(W, 'keys', 'serverPK.pem'), '--cipher', cipher, '--quiet', join(W, 'data.bin')],
        { stdio: ['ignore', 'ignore', 'pipe'] })
        if (tx.status !== 0) fail(new Error(`send exited ${tx.status}: ${tx.stderr}`))
      })
      rx.on('exit', (code) => {
        if (code !== 0) return fail(new Error(`recv exited ${code}: ${err}`))
        const end = (side) => {
          const [user, sys, wall, rssKiB] = readFileSync(join(W, `${side}.time`), 'utf8').trim().split(/\s+/).map(Number)
          const dir = join(W, side)
          return { user, sys, wall, rssMB: rssKiB * 1024 / 1e6, profile: profile ? split(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')))) : null }
        }
        done({ send: end('tx'), recv: end('rx') })
      })
    })
  } finally {
    rmSync(W, { recursive: true, force: true })
  }
}

/**
 * CPU-seconds per GiB in each category, for the bytes alone: the start-up and handshake of a
 * 1 MiB run (`small`, `smallProf`) are taken off the `mib` MiB run (`big`, `bigProf`), in the
 * total (user + sys of the runs without the profiler) and in each category's profile share.
 */
function perGiB(big, bigProf, small, smallProf, mib) {
  const cpu = big.user + big.sys - (small.user + small.sys)
  const diff = {}
  for (const c of [...CATS, 'idle']) diff[c] = Math.max(0, (bigProf.profile[c] || 0) - (smallProf.profile[c] || 0))
  const busy = CATS.reduce((s, c) => s + diff[c], 0)
  const gib = (mib - 1) / 1024
  const out = { total: cpu / gib, idleShare: diff.idle / (busy + diff.idle), fixed: small.user + small.sys }
  for (const c of CATS) out[c] = busy ? (diff[c] / busy) * cpu / gib : NaN
  return out
}

export const CPU_CATEGORIES = CATS

/**
 * `rounds` profiled transfers of `mib` MiB through the CLI of `checkout`; per end, the medians
 * of CPU-seconds per GiB in total and per category, the idle share of the profile, wall seconds
 * and peak RSS (MB). Used by `npm run bench` (section cpu) and from the command line.
 */
export async function cpuSplit({ checkout, mib = 512, rounds = 1, cipher = 'aes-128-ccm' }) {
  const runs = []
  for (let i = 0; i < rounds; i++) {
    const r = {}
    for (const [k, size, profile] of [['big', mib, false], ['bigProf', mib, true], ['small', 1, false], ['smallProf', 1, true]]) r[k] = await cliRun({ checkout, mib: size, cipher, profile })
    runs.push(r)
  }
  return ['send', 'recv'].map((side) => {
    const per = runs.map((r) => perGiB(r.big[side], r.bigProf[side], r.small[side], r.smallProf[side], mib))
    const m = (k) => median(per.map((p) => p[k]))
    return { side, total: m('total'), ...Object.fromEntries(CATS.map((c) => [c, m(c)])), idle: m('idleShare'),
      fixed: m('fixed'), wall: median(runs.map((r) => r.big[side].wall)), rssMB: median(runs.map((r) => r.big[side].rssMB)) }
  })
}

/** The rows as a markdown table. */
export function cpuSplitTable(rows) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–')
  return [`| end | CPU-s per GiB | ${CATS.join(' | ')} | idle % of profile | start-up + handshake CPU-s | wall s | peak RSS MB |`, `|${' --- |'.repeat(CATS.length + 6)}`,
    ...rows.map((r) => `| ${r.side} | ${f(r.total)} | ${CATS.map((c) => f(r[c])).join(' | ')} | ${(r.idle * 100).toFixed(0)} | ${f(r.fixed)} | ${f(r.wall)} | ${r.rssMB.toFixed(0)} |`)].join('\n')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: a } = parseArgs({
    options: {
      checkout: { type: 'string', default: join(fileURLToPath(import.meta.url), '..', '..') },
      mib: { type: 'string', default: '512' },
      rounds: { type: 'string', default: '1' },
      cipher: { type: 'string', default: 'aes-128-ccm' },
    },
  })
  const checkout = resolve(a.checkout)
  const rows = await cpuSplit({ checkout, mib: Number(a.mib), rounds: Number(a.rounds), cipher: a.cipher })
  process.stdout.write(`${checkout}: ${a.mib} MiB ${a.cipher}, ${a.rounds} round(s), CPU-seconds per GiB (median)\n${cpuSplitTable(rows)}\n`)
}
