/**
 * Tunnels (issue 20): `secure-pipe forward` -> `secure-pipe serve` -> a TCP target, against the
 * same shape built from socat: `socat TCP-LISTEN,fork OPENSSL:` -> `socat OPENSSL-LISTEN,fork
 * TCP:target`, TLS 1.3 with TLS_AES_128_CCM_SHA256 only (OPENSSL_CONF) and client certificates
 * both ways, as secure-pipe authenticates both ends (RSA-3072 keys for both). Three figures, each
 * a ratio to socat in the same run, contenders interleaved by round:
 *  - throughput: SIZE bytes from a client through the tunnel into the target, which counts them
 *    and answers; time from connect() to the answer;
 *  - open time: connect() to the first echoed byte of a fresh connection (both handshakes and the
 *    connection to the target included), the median of sequential opens;
 *  - memory per open tunnelled connection: PSS (so that socat's forked children are not counted
 *    for the pages they share) of every process of both tunnel ends with N connections open,
 *    minus with none, divided by N.
 * The client and the target run in this process, the same for both contenders.
 */
import { readdirSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { CLI } from './lib/tools.js'
import { TLS_SUITE } from './lib/keys.js'
import { cmd, freePort, runShell, tail, waitListening } from './lib/proc.js'
import { median, rotate, summarize } from './lib/stats.js'

const NODE = process.execPath
const OPENS = 20
const HELD = 50

/** The target: `size` request bytes are counted, then `ok N` and close; a 1-byte request is echoed (open time, held connections). */
async function startTarget() {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0
    s.on('error', () => {})
    s.on('data', (c) => { n += c.length; if (n === 1) s.write(c) })
    s.on('end', () => s.end(`ok ${n}`))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { port: server.address().port, close: () => server.close() }
}

function contenders() {
  return [
    {
      id: 'sp', label: 'secure-pipe forward -> serve (AES-128-CCM, RSA-3072 both sides)',
      missing: (ctx) => ctx.cliMissing,
      ends: (ctx, outer, inner, target) => [
        cmd(NODE, CLI, 'serve', '--listen', `127.0.0.1:${inner}`, '--to', `127.0.0.1:${target}`, '--key', ctx.keys.sp.server, '--authorized', ctx.keys.sp.clientPub, '--quiet'),
        cmd(NODE, CLI, 'forward', '--local', `127.0.0.1:${outer}`, '--connect', `127.0.0.1:${inner}`, '--key', ctx.keys.sp.client, '--server-key', ctx.keys.sp.serverPub, '--quiet'),
      ],
      env: undefined,
      check: () => null,
    },
    {
      id: 'socat', label: `socat TCP-LISTEN,fork OPENSSL: -> socat OPENSSL-LISTEN,fork TCP: (TLS 1.3 ${TLS_SUITE}, client certs)`,
      missing: (ctx) => (ctx.tools.socat ? null : 'socat not found (apt-get install socat)'),
      ends: (ctx, outer, inner, target) => {
        const { server, client } = ctx.keys.tls
        return [
          cmd('socat', '-d', '-d', '-b', '65536', `OPENSSL-LISTEN:${inner},bind=127.0.0.1,reuseaddr,fork,cert=${server.cert},key=${server.key},cafile=${client.cert},verify=1`, `TCP:127.0.0.1:${target}`),
          cmd('socat', '-b', '65536', `TCP-LISTEN:${outer},bind=127.0.0.1,reuseaddr,fork`, `OPENSSL:127.0.0.1:${inner},cafile=${server.cert},cert=${client.cert},key=${client.key}`),
        ]
      },
      env: (ctx) => ({ OPENSSL_CONF: ctx.keys.opensslConf }),
      check: (stderr) => (stderr.includes(`SSL connection using ${TLS_SUITE}`) ? null : `socat did not report ${TLS_SUITE}: ${tail(stderr, 300)}`),
    },
  ]
}

/** Both ends of one contender, listening. */
async function startTunnel(ctx, c, target) {
  const [inner, outer] = [await freePort(), await freePort()]
  const env = c.env?.(ctx)
  const procs = c.ends(ctx, outer, inner, target).map((line) => runShell(line, { timeoutMs: 30 * 60_000, env, captureStdout: false, label: c.id }))
  const alive = () => procs.every((p) => p.child.exitCode === null)
  await waitListening(inner, 20_000, alive)
  await waitListening(outer, 20_000, alive)
  return { port: outer, procs, stop: () => { for (const p of procs) p.kill() } }
}

/** connect(), send `size` bytes (or one, echoed), end; resolves { ms, answer } when the target's answer has arrived. */
function request(port, size, { hold = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const s = net.createConnection({ host: '127.0.0.1', port, allowHalfOpen: true })
    s.setNoDelay(true)
    const chunks = []
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer within 5 min')) }, 300_000)
    s.on('error', (err) => { clearTimeout(timer); reject(err) })
    if (size === 1) {
      s.write('x')
      s.once('data', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        clearTimeout(timer)
        if (hold) return resolve({ ms, socket: s })
        s.destroy()
        resolve({ ms })
      })
      return
    }
    const buf = Buffer.alloc(1024 * 1024, 0x5a)
    let left = size
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, buf.length)
        left -= n
        if (!s.write(n === buf.length ? buf : buf.subarray(0, n))) return void s.once('drain', pump)
      }
      s.end()
    }
    s.on('data', (c) => chunks.push(c))
    s.on('end', () => {
      clearTimeout(timer)
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, answer: Buffer.concat(chunks).toString() })
      s.destroy()
    })
    pump()
  })
}

/** PSS in bytes of every process in the process groups of `procs` (socat forks a child per connection). */
function pss(procs) {
  const groups = new Set(procs.map((p) => p.child.pid))
  let total = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      if (!groups.has(pgrp)) continue
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
      if (m) total += Number(m[1]) * 1024
    } catch { /* gone meanwhile */ }
  }
  return total
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500))

async function oneRound(ctx, c, target, size) {
  const tunnel = await startTunnel(ctx, c, target)
  try {
    const up = await request(tunnel.port, size)
    if (up.answer !== `ok ${size}`) throw new Error(`${c.id}: the target answered '${up.answer}' after ${size} bytes`)
    const opens = []
    for (let i = 0; i < OPENS; i++) opens.push((await request(tunnel.port, 1)).ms)
    await settle()
    const before = pss(tunnel.procs)
    const held = []
    for (let i = 0; i < HELD; i++) held.push((await request(tunnel.port, 1, { hold: true })).socket)
    await settle()
    const after = pss(tunnel.procs)
    for (const s of held) s.destroy()
    const problem = c.check(tunnel.procs[0].stderr)
    if (problem) throw new Error(problem)
    return { mbps: size / 1e6 / (up.ms / 1000), openMs: median(opens), perConn: (after - before) / HELD }
  } finally {
    tunnel.stop()
  }
}

export async function runTunnel(ctx, log) {
  const size = Math.min(256 * 2 ** 20, Math.max(16 * 2 ** 20, Math.round(ctx.opts.size / 4)))
  const target = await startTarget()
  const list = contenders()
  const rows = new Map(list.map((c) => [c.id, { id: c.id, label: c.label, mbps: [], openMs: [], perConn: [], errors: [], skipped: null }]))
  for (const c of list) {
    const why = await c.missing(ctx)
    if (why) rows.get(c.id).skipped = `skipped: ${why}`
  }
  try {
    for (let round = 0; round < ctx.opts.rounds; round++) {
      for (const c of rotate(list, round)) {
        const row = rows.get(c.id)
        if (row.skipped) continue
        try {
          const r = await oneRound(ctx, c, target.port, size)
          row.mbps.push(r.mbps)
          row.openMs.push(r.openMs)
          row.perConn.push(r.perConn)
          log(`tunnel round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${r.mbps.toFixed(0)} MB/s, open ${r.openMs.toFixed(1)} ms, ${(r.perConn / 1024).toFixed(0)} KiB per open connection`)
        } catch (err) {
          row.errors.push(err.message)
          log(`tunnel round ${round + 1}/${ctx.opts.rounds} ${c.id}: FAILED ${err.message}`)
        }
      }
    }
  } finally {
    target.close()
  }
  const results = [...rows.values()].map((r) => ({ ...r, mbpsStats: summarize(r.mbps), openStats: summarize(r.openMs), perConnStats: summarize(r.perConn) }))
  return { size, opens: OPENS, held: HELD, results }
}

/** The RESULTS.md section: each figure and its ratio to socat. */
export function tunnelSection(T) {
  const sp = T.results.find((r) => r.id === 'sp')
  const so = T.results.find((r) => r.id === 'socat')
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–')
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–')
  const line = (name, get, unit, d, better) => `| ${name} | ${f(get(sp), d)} ${unit} | ${f(get(so), d)} ${unit} | ${ratio(get(sp), get(so))} (${better}) |`
  const notes = T.results.filter((r) => r.skipped || r.errors.length).map((r) => `- ${r.id}: ${r.skipped || r.errors.join('; ')}`)
  return [
    '', '## Tunnels (issue 20)', '',
    `forward -> serve -> target against socat -> socat -> target, medians of ${sp?.mbpsStats.n ?? 0} rounds; throughput ${f(T.size / 2 ** 20, 0)} MiB`,
    `into the target; open time the median of ${T.opens} sequential opens; memory with ${T.held} connections open, per connection.`,
    `secure-pipe: ${sp?.label}. socat: ${so?.label}.`, '',
    '| figure | secure-pipe | socat | ratio |', '| --- | --- | --- | --- |',
    line('forwarded stream throughput', (r) => r?.mbpsStats.median, 'MB/s', 0, 'higher is better'),
    line('connection open time (handshake included)', (r) => r?.openStats.median, 'ms', 1, 'lower is better'),
    line('memory per open tunnelled connection (PSS)', (r) => r?.perConnStats.median / 1024, 'KiB', 0, 'lower is better'),
    ...(notes.length ? ['', ...notes] : []), '',
  ].join('\n')
}
