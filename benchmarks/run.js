#!/usr/bin/env node
// npm run bench [-- --size 1GiB --rounds 3 --only bulk,crypto,handshake,pingpong,memory,rsa,tunnel]
// Measures secure-pipe against its peers on this machine in one run and writes
// benchmarks/RESULTS.md (see --help). Child processes are killed on exit, signal and timeout.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { HELP, parseArgs } from './lib/args.js'
import { installCleanup, killAll, run, shq } from './lib/proc.js'
import { makeKeys } from './lib/keys.js'
import { renderReport } from './lib/report.js'
import { BENCH, ROOT, cliMissing, findTools, loadLibrary } from './lib/tools.js'
import { runBulk } from './bulk.js'
import { runFiles } from './files.js'
import { runCrypto } from './crypto.js'
import { runHandshake } from './handshake.js'
import { runMemory } from './memory.js'
import { runPingpong } from './pingpong.js'
import { runRsa } from './rsa.js'
import { runTunnel, tunnelSection } from './tunnel.js'
import { runStartup } from './startup.js'
import { cpuSplit, cpuSplitTable } from './cpu-split.js'

function cpuInfo() {
  const text = readFileSync('/proc/cpuinfo', 'utf8')
  const field = (name) => (new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text) || [])[1]?.trim()
  return {
    model: field('model name') || field('Hardware') || 'unknown',
    count: (text.match(/^processor\s*:/gm) || []).length,
    aes: / aes( |$)/m.test(field('flags') || ''),
  }
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

async function gitState() {
  const head = await run(`git -C ${shq(ROOT)} rev-parse --short HEAD`, { timeoutMs: 5_000 })
  const dirty = await run(`git -C ${shq(ROOT)} status --porcelain --untracked-files=no`, { timeoutMs: 5_000 })
  if (head.code !== 0) return 'not a git checkout'
  return `commit ${head.stdout.trim()}${dirty.stdout.trim() ? ' with uncommitted changes' : ''} (build/ as compiled on this machine)`
}

function environment(tools, git) {
  return {
    date: new Date().toISOString(),
    cpu: cpuInfo(),
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nodeOpenssl: process.versions.openssl,
    tools: { openssl: tools.versions.openssl || null, socat: tools.versions.socat || null, time: tools.time },
    command: ['node benchmarks/run.js', ...process.argv.slice(2)].join(' '),
    loadStart: loadAverage(),
    git,
  }
}

const log = (msg) => process.stderr.write(`${msg}\n`)

async function main() {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    log(`bench: ${err.message}`)
    process.exit(2)
  }
  if (opts.help) { process.stdout.write(HELP + '\n'); return }
  installCleanup()
  const t0 = Date.now()
  const runDir = join(BENCH, 'tmp', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`)
  mkdirSync(runDir, { recursive: true })
  // Keys and half-written outputs go with the run, however it ends (exit, error or signal).
  if (!opts.keep) process.on('exit', () => rmSync(runDir, { recursive: true, force: true }))
  const tools = await findTools()
  for (const [name, why] of [['openssl', 'openssl'], ['socat', 'socat'], ['time', 'time']]) {
    if (!tools[name]) log(`bench: ${name} not found; its contenders are skipped (apt-get install ${why})`)
  }
  log('bench: making RSA-3072 keys and certificates…')
  const keys = await makeKeys(join(runDir, 'keys'), { haveOpenssl: !!tools.openssl })
  const lib = await loadLibrary()
  const ctx = { opts, tools, keys, runDir, cliMissing: await cliMissing(), libMissing: lib.missing || null }
  if (ctx.cliMissing) log(`bench: secure-pipe CLI contenders skipped: ${ctx.cliMissing}`)
  if (ctx.libMissing) log(`bench: secure-pipe library contenders skipped: ${ctx.libMissing}`)
  const R = { opts, env: environment(tools, await gitState()), cliMissing: ctx.cliMissing, libMissing: ctx.libMissing, sectionErrors: [] }
  const want = (s) => opts.only.includes(s)
  const section = async (name, fn) => {
    log(`bench: ${name}…`)
    try {
      return await fn()
    } catch (err) {
      log(`bench: section ${name} failed: ${err.stack || err}`)
      R.sectionErrors.push(`${name}: ${err.message}`)
      return undefined
    }
  }
  // RSA first: the handshake section's floor needs the decryption time from this run.
  if (want('rsa') || want('handshake')) {
    const rsa = await section('rsa', () => runRsa(want('rsa') ? ctx : { ...ctx, opts: { ...opts, rounds: 1 } }, log))
    if (want('rsa')) R.rsa = rsa
    if (rsa) R.floor = { decryptMs: rsa.decryptMs, sequential: 1000 / (2 * rsa.decryptMs), concurrent: 1000 / rsa.decryptMs }
  }
  if (want('crypto')) R.crypto = await section('crypto', () => runCrypto(ctx, log))
  if (want('bulk')) R.bulk = await section('bulk', () => runBulk(ctx, log))
  if (want('files')) R.files = await section('files', () => runFiles(ctx, log))
  if (want('handshake')) R.handshake = await section('handshake', () => runHandshake(ctx, log))
  if (want('pingpong')) R.pingpong = await section('pingpong', () => runPingpong(ctx, log))
  if (want('memory')) R.memory = await section('memory', () => runMemory(ctx, log))
  if (want('tunnel')) R.tunnel = await section('tunnel', () => runTunnel(ctx, log))
  if (want('startup')) R.startup = await section('startup', () => runStartup(ctx, log))
  if (want('cpu') && !ctx.cliMissing && tools.time) {
    R.cpu = await section('cpu', async () => {
      const mib = Math.max(64, Math.min(1024, Math.round(opts.size / 2 ** 21))) // half the bulk size, 64 MiB to 1 GiB
      const rows = await cpuSplit({ checkout: ROOT, mib, rounds: 1 })
      for (const r of rows) log(`cpu ${r.side}: ${r.total.toFixed(2)} CPU-s per GiB, aes-ccm ${r['aes-ccm'].toFixed(2)}`)
      return { mib, rounds: 1, rows, table: cpuSplitTable(rows) }
    })
  }
  R.elapsedS = (Date.now() - t0) / 1000
  R.loadEnd = loadAverage()
  const out = opts.out || join(BENCH, 'RESULTS.md')
  writeFileSync(out, renderReport(R) + (R.tunnel ? tunnelSection(R.tunnel) : ''))
  writeFileSync(join(BENCH, 'tmp', 'last-results.json'), JSON.stringify(R, null, 2))
  log(`bench: wrote ${out} in ${R.elapsedS.toFixed(0)} s`)
}

main().then(() => {
  killAll()
  process.exit(0)
}, (err) => {
  log(`bench: ${err.stack || err}`)
  killAll()
  process.exit(1)
})
