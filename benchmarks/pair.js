/**
 * How long `secure-pipe pair` takes through the library on 127.0.0.1 (issue 19): scrypt over the
 * code alone, and a whole `pairWith` (S's scrypt, connect, the four messages, both writes), the
 * median of 5 runs each on fresh key homes. Run after a build: `node benchmarks/pair.js`.
 * Absolute times: they depend on the machine and its load; the exchange has no peer to compare with.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initIdentity, keyHome, listenPair, pairPassword, pairWith } from '../build/src/index.js'

const RUNS = 5
const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-bench-pair-'))
const home = name => { const h = keyHome({ SECURE_PIPE_HOME: join(dir, name) }); initIdentity(h, { bits: 3072 }); return h }
const median = a => [...a].sort((x, y) => x - y)[a.length >> 1]
const scrypt = []
const pairing = []
try {
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now()
    await pairPassword('7-crate-swoop')
    scrypt.push(performance.now() - t0)
    const r = home(`r${i}`)
    const s = home(`s${i}`)
    const l = await listenPair({ home: r, port: 0 })
    t0 = performance.now()
    await Promise.all([l.result, pairWith({ home: s, host: '127.0.0.1', port: l.address.port, code: l.code, pinAs: '127.0.0.1' })])
    pairing.push(performance.now() - t0)
    await l.close()
  }
  console.log(`scrypt over the code: median ${median(scrypt).toFixed(0)} ms; pairWith end to end: median ${median(pairing).toFixed(0)} ms (${RUNS} runs)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
