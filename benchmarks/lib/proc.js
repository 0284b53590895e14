/**
 * Child processes for the benchmarks: every child runs in its own process group, is tracked,
 * and is killed (the whole group) on timeout and when this process exits for any reason.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const groups = new Set()

function killGroup(pid, signal = 'SIGKILL') {
  try { process.kill(-pid, signal) } catch { /* already gone */ }
}

export function killAll() {
  for (const pid of groups) killGroup(pid)
  groups.clear()
}

let installed = false
export function installCleanup() {
  if (installed) return
  installed = true
  process.on('exit', killAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, killing child processes\n`)
      killAll()
      process.exit(130)
    })
  }
}

/** Quote one word for bash. */
export function shq(word) {
  const s = String(word)
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export const cmd = (...words) => words.map(shq).join(' ')

/**
 * Run a bash command line in a new process group. Returns a handle:
 *   done: Promise<{ code, signal, stdout, stderr, ms, timedOut }> (never rejects)
 *   waitStderr(regex, ms): resolves with the match when stderr matches
 *   kill(): kill the group
 */
export function runShell(line, { timeoutMs = 60_000, env, stdin = 'ignore', captureStdout = true, label = line } = {}) {
  const t0 = process.hrtime.bigint()
  const child = spawn('bash', ['-c', `set -o pipefail\n${line}`], {
    detached: true,
    stdio: [stdin, captureStdout ? 'pipe' : 'ignore', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  })
  groups.add(child.pid)
  let stdout = ''
  let stderr = ''
  const LIMIT = 1 << 20
  child.stdout?.on('data', (d) => { if (stdout.length < LIMIT) stdout += d })
  const watchers = new Set()
  child.stderr.on('data', (d) => {
    if (stderr.length < LIMIT) stderr += d
    for (const w of watchers) w()
  })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; killGroup(child.pid) }, timeoutMs)
  const done = new Promise((resolve) => {
    child.on('error', (err) => { stderr += `\nspawn error: ${err.message}` })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      killGroup(child.pid) // stragglers in the group (e.g. the generator of a pipeline)
      groups.delete(child.pid)
      for (const w of watchers) w()
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      resolve({ code, signal, stdout, stderr, ms, timedOut, endNs: process.hrtime.bigint() })
    })
  })
  let exited = false
  done.then(() => { exited = true })
  const waitStderr = (regex, ms) => new Promise((resolve, reject) => {
    const check = () => {
      const m = regex.exec(stderr)
      if (m) { watchers.delete(check); clearTimeout(t); resolve(m); return }
      if (exited || child.exitCode !== null || child.signalCode !== null) {
        watchers.delete(check); clearTimeout(t)
        reject(new Error(`${label}: exited before printing ${regex}; stderr: ${tail(stderr)}`))
      }
    }
    const t = setTimeout(() => { watchers.delete(check); reject(new Error(`${label}: no ${regex} on stderr within ${ms} ms; stderr: ${tail(stderr)}`)) }, ms)
    watchers.add(check)
    check()
  })
  return { child, done, waitStderr, kill: () => killGroup(child.pid), get stderr() { return stderr }, get stdout() { return stdout } }
}

export function tail(text, n = 600) {
  const s = String(text || '').trim()
  return s.length > n ? '…' + s.slice(-n) : s || '(empty)'
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Wait until something LISTENs on 127.0.0.1:port, read from /proc/net/tcp so that no probe
 * connection is made (openssl s_server -naccept 1 would count a probe as its one connection).
 */
export async function waitListening(port, ms = 10_000, alive = () => true) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const table = readFileSync('/proc/net/tcp', 'utf8')
    for (const line of table.split('\n')) {
      const f = line.trim().split(/\s+/)
      if (f[1] === want && f[3] === '0A') return
    }
    if (!alive()) throw new Error(`the process meant to listen on port ${port} has exited`)
    await sleep(10)
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${ms} ms`)
}

/** The fields of the last line of a `/usr/bin/time -f '%U %S %M' -o FILE` output file, or null. */
function timeFields(file) {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    return lines[lines.length - 1].trim().split(/\s+/).map(Number)
  } catch { return null }
}

/** Peak RSS in bytes (the last field, KiB), or null. */
export function readPeakRss(file) {
  const f = timeFields(file)
  const kib = f?.[f.length - 1]
  return Number.isFinite(kib) && kib > 0 ? kib * 1024 : null
}

/** User + system CPU-seconds from a `-f '%U %S %M'` file (three fields), or null. */
export function readCpuSeconds(file) {
  const f = timeFields(file)
  return f?.length === 3 && f.every(Number.isFinite) ? f[0] + f[1] : null
}

/** Run a command to completion; resolves { code, stdout, stderr }. */
export function run(line, opts = {}) {
  return runShell(line, opts).done
}
