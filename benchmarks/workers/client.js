// Usage: node benchmarks/workers/client.js --kind sp|tls|tls-mutual --mode hs|pingpong --port P
//          --keys JSON --root DIR [--concurrency C] [--seconds S] [--max N] [--msg BYTES]
// hs: C loops each connect (full handshake), record the latency, close, repeat; stops after S
//     seconds or N handshakes. pingpong: one connection, one BYTES message out and its echo back
//     at a time, for S seconds or N round trips. Prints one JSON line on stdout.
import { parseArgs } from 'node:util'
import { KINDS, connector, readKeysArg } from './common.js'
import { percentile } from '../lib/stats.js'

const { values: a } = parseArgs({
  options: {
    kind: { type: 'string' }, mode: { type: 'string' }, port: { type: 'string' }, keys: { type: 'string' }, root: { type: 'string' },
    concurrency: { type: 'string', default: '1' }, seconds: { type: 'string', default: '2' }, max: { type: 'string', default: '20000' }, msg: { type: 'string', default: '64' },
  },
})
const die = (msg) => { process.stderr.write(`client: ${msg}\n`); process.exit(3) }
if (!KINDS.includes(a.kind) || !['hs', 'pingpong'].includes(a.mode)) die('bad --kind or --mode')
const port = Number(a.port)
const seconds = Number(a.seconds)
const max = Number(a.max)
const connect = await connector(a.kind, readKeysArg(a.keys), a.root, port)
const now = () => Number(process.hrtime.bigint()) / 1e6 // ms
const lat = (xs) => ({ medianMs: percentile(xs, 50), p90Ms: percentile(xs, 90) })
const close = (s) => { s.on('error', () => {}); s.resume?.(); s.end() }

async function handshakes() {
  const latencies = []
  const t0 = now()
  const deadline = t0 + seconds * 1000
  let started = 0
  async function loop() {
    while (now() < deadline && started < max) {
      started++
      const t = now()
      const s = await connect()
      latencies.push(now() - t)
      close(s)
    }
  }
  await Promise.all(Array.from({ length: Number(a.concurrency) }, loop))
  const elapsed = (now() - t0) / 1000
  return { count: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, ...lat(latencies) }
}

async function pingpong() {
  const s = await connect()
  const noDelay = typeof s.setNoDelay === 'function'
  if (noDelay) s.setNoDelay(true)
  const msg = Buffer.alloc(Number(a.msg), 0x61)
  const rtts = []
  let pending = null
  let got = 0
  s.on('data', (d) => {
    got += d.length
    if (got >= msg.length && pending) { got -= msg.length; const p = pending; pending = null; p() }
  })
  s.on('error', (err) => die(`connection error: ${err.message}`))
  const t0 = now()
  const deadline = t0 + seconds * 1000
  while (now() < deadline && rtts.length < max) {
    const t = now()
    await new Promise((resolve, reject) => {
      pending = resolve
      const stall = setTimeout(() => reject(new Error(`no echo of a ${msg.length}-byte message within 5 s (does the stream buffer small writes?)`)), 5000)
      const done = pending
      pending = () => { clearTimeout(stall); done() }
      s.write(msg)
    })
    rtts.push(now() - t)
  }
  const elapsed = (now() - t0) / 1000
  close(s)
  return { count: rtts.length, seconds: elapsed, perSecond: rtts.length / elapsed, ...lat(rtts), noDelay }
}

try {
  const r = a.mode === 'hs' ? await handshakes() : await pingpong()
  process.stdout.write(JSON.stringify(r) + '\n')
  process.exit(0)
} catch (err) {
  die(err?.stack ?? String(err))
}
