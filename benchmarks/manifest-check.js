/**
 * issue 17 section 3: time to decode and check (SPEC 8.1, 8.2) a manifest of ENTRIES entries,
 * as a ratio to inserting as many short strings into a Map, measured in the same run (the
 * machine's speed cancels out).
 *
 *   node benchmarks/manifest-check.js [ENTRIES=1000000]
 */
import { checkManifest, encodeManifest, ManifestDecoder } from '../build/src/index.js'

const N = Number(process.argv[2] ?? 1_000_000)
const entries = Array.from({ length: N }, (_, i) => ({ type: 'file', name: `d${i % 1000}/s${i % 7}/f${i}`, mode: 0o644, mtimeMs: 1_600_000_000_000, size: 1 }))
const wire = encodeManifest(entries, { resume: true })
let t0 = performance.now()
const reference = new Map()
for (let i = 0; i < N; i++) reference.set(`k${i}`, i)
const refS = (performance.now() - t0) / 1000
t0 = performance.now()
const d = new ManifestDecoder()
let got = null
for (let at = 0; at < wire.length && got === null; at += 65536) got = d.push(wire.subarray(at, at + 65536))
const decodeS = (performance.now() - t0) / 1000
t0 = performance.now()
checkManifest(got.manifest)
const checkS = (performance.now() - t0) / 1000
console.log(`${N} entries (${(wire.length / 1048576).toFixed(1)} MiB): decode ${decodeS.toFixed(2)} s, check ${checkS.toFixed(2)} s; reference Map of ${N} strings ${refS.toFixed(2)} s; (decode + check) / reference = ${((decodeS + checkS) / refS).toFixed(1)}`)
