/**
 * issue 17 section 3: what manifests cost a receiver. Starts a real `recv --keep-open` drop box,
 * opens CONNS connections as one authorized key, each sends an ENTRIES-entry manifest and then
 * nothing; prints the receiver's RSS growth (VmRSS from /proc) once each got its answer (Ready
 * or a refusal), and the time from manifest to answer.
 *
 *   node benchmarks/manifest-memory.js [CONNS=4] [ENTRIES=200000]
 *
 * Needs the build (npx tsc -p tsconfig.json). Linux only (/proc).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, encodeManifest, loadPrivateKey, loadPublicKey, writeKeyPair } from '../build/src/index.js'

const CONNS = Number(process.argv[2] ?? 4)
const ENTRIES = Number(process.argv[3] ?? 200_000)
const BIN = fileURLToPath(new URL('../bin/secure-pipe.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-manifest-mem-'))
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
try {
  for (const name of ['server', 'client']) writeKeyPair({ dir, name, bits: 2048 })
  mkdirSync(join(dir, 'inbox'))
  const recv = spawn(process.execPath, [BIN, 'recv', '--listen', '127.0.0.1:0', '--key', join(dir, 'server.pem'), '--authorized', join(dir, 'clientPK.pem'), '--keep-open', '--idle-timeout', '600', '--output-dir', join(dir, 'inbox')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SECURE_PIPE_HOME: join(dir, 'home') } })
  let err = ''
  recv.stderr.setEncoding('utf8').on('data', (c) => { err += c })
  const deadline = Date.now() + 20_000
  while (!/listening on \S+:(\d+)/.test(err)) { if (Date.now() > deadline) throw new Error(err); await new Promise((r) => setTimeout(r, 20)) }
  const port = Number(/listening on \S+:(\d+)/.exec(err)[1])
  const entries = Array.from({ length: ENTRIES }, (_, i) => ({ type: 'file', name: `d${i % 100}/f${i}`, mode: 0o644, mtimeMs: 1_600_000_000_000, size: 1 }))
  const manifest = encodeManifest(entries, { resume: true })
  const before = rssKiB(recv.pid)
  const opts = { host: '127.0.0.1', port, privateKey: loadPrivateKey(join(dir, 'client.pem')), serverPublicKey: loadPublicKey(join(dir, 'serverPK.pem')) }
  const streams = []
  const answers = []
  for (let i = 0; i < CONNS; i++) {
    const s = await connect(opts)
    s.on('error', () => {})
    streams.push(s)
    const t0 = performance.now()
    answers.push(new Promise((resolve) => {
      s.once('data', (c) => resolve({ ms: performance.now() - t0, what: c.subarray(0, 4).toString('latin1') === 'SPRY' ? 'Ready' : `refused: ${c.subarray(52).toString('utf8').slice(0, 160)}` }))
      s.once('close', () => resolve({ ms: performance.now() - t0, what: 'closed' }))
    }))
    s.write(manifest)
  }
  const got = await Promise.all(answers)
  const after = rssKiB(recv.pid)
  console.log(`${CONNS} x ${ENTRIES}-entry manifest (${(manifest.length / 1048576).toFixed(1)} MiB each): receiver RSS ${(before / 1024).toFixed(0)} -> ${(after / 1024).toFixed(0)} MiB, growth ${((after - before) / 1024).toFixed(0)} MiB`)
  for (const [i, a] of got.entries()) console.log(`  connection ${i}: ${a.what} after ${(a.ms / 1000).toFixed(2)} s`)
  for (const s of streams) s.destroy()
  recv.kill('SIGTERM')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
