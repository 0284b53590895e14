/**
 * Many small files (issue 11): a tree of 1,000 files of 4 KiB (10 directories of 100), sent by
 * name (`send TREE` -> `recv DIR`, every file fsynced and renamed, SPEC 8.7) against the same
 * tree as one tar stream (`tar c TREE | send -` -> `recv - | tar x`, nothing fsynced). Time runs
 * from spawning the sender (receiver already listening) until both have exited, start-up and
 * handshake included; files/s = 1000 / seconds. Rounds interleave the two; each run's output is
 * checked (1,000 files of the right size).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CLI } from './lib/tools.js'
import { cmd, runShell, tail } from './lib/proc.js'
import { rotate, summarize } from './lib/stats.js'

const NODE = process.execPath
const FILES = 1000
const SIZE = 4096
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/

function makeTree(root) {
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(root, 'tree', `d${d}`), { recursive: true })
    for (let f = 0; f < FILES / 10; f++) writeFileSync(join(root, 'tree', `d${d}`, `f${f}`), randomBytes(SIZE))
  }
}

function countFiles(dir) {
  let n = 0
  for (const d of readdirSync(dir)) for (const f of readdirSync(join(dir, d))) if (statSync(join(dir, d, f)).size === SIZE) n++
  return n
}

const CONTENDERS = [
  {
    id: 'by-name', label: 'secure-pipe send TREE -> recv DIR (each file fsynced, renamed)',
    receiver: (ctx, out) => cmd(NODE, CLI, 'recv', out, '--listen', '127.0.0.1:0', '--key', ctx.keys.sp.server, '--authorized', ctx.keys.sp.clientPub, '--quiet'),
    sender: (ctx, port, src) => cmd(NODE, CLI, 'send', join(src, 'tree'), '--connect', `127.0.0.1:${port}`, '--key', ctx.keys.sp.client, '--server-key', ctx.keys.sp.serverPub, '--quiet'),
    treeIn: (out) => join(out, 'tree'),
  },
  {
    id: 'tar', label: 'tar c TREE | secure-pipe send - -> recv - | tar x (nothing fsynced)',
    receiver: (ctx, out) => `${cmd(NODE, CLI, 'recv', '-', '--listen', '127.0.0.1:0', '--key', ctx.keys.sp.server, '--authorized', ctx.keys.sp.clientPub, '--quiet')} | tar x -C ${cmd(out)}`,
    sender: (ctx, port, src) => `tar c -C ${cmd(src)} tree | ${cmd(NODE, CLI, 'send', '-', '--connect', `127.0.0.1:${port}`, '--key', ctx.keys.sp.client, '--server-key', ctx.keys.sp.serverPub, '--quiet')}`,
    treeIn: (out) => join(out, 'tree'),
  },
]

async function once(ctx, c, src, out) {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const recv = runShell(c.receiver(ctx, out), { timeoutMs: 120_000, label: `${c.id} receiver` })
  const port = Number((await recv.waitStderr(LISTENING, 15_000))[1])
  const t0 = process.hrtime.bigint()
  const send = runShell(c.sender(ctx, port, src), { timeoutMs: 120_000, label: `${c.id} sender` })
  const [s, r] = await Promise.all([send.done, recv.done])
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (s.code !== 0 || r.code !== 0) throw new Error(`${c.id}: sender exit ${s.code}, receiver exit ${r.code}: ${tail(s.stderr + r.stderr, 300)}`)
  const n = countFiles(c.treeIn(out))
  if (n !== FILES) throw new Error(`${c.id}: ${n} of ${FILES} files arrived`)
  return FILES / seconds
}

/** Rows { id, label, stats } of files per second. */
export async function runFiles(ctx, log) {
  if (ctx.cliMissing) return { skipped: ctx.cliMissing, results: [] }
  const src = join(ctx.runDir, 'files-src')
  makeTree(src)
  const samples = new Map(CONTENDERS.map((c) => [c.id, []]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(CONTENDERS, round)) {
      const fps = await once(ctx, c, src, join(ctx.runDir, `files-out-${c.id}`))
      samples.get(c.id).push(fps)
      log(`bench: files ${c.id} round ${round + 1}: ${fps.toFixed(0)} files/s`)
    }
  }
  rmSync(src, { recursive: true, force: true })
  return { results: CONTENDERS.map((c) => ({ id: c.id, label: c.label, stats: summarize(samples.get(c.id)) })) }
}
