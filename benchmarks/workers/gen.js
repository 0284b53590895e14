// Usage: node benchmarks/workers/gen.js BYTES
// Writes BYTES bytes of the source stream (lib/source.js) to stdout with blocking writes of
// 1 MiB: no event loop and no copies, so that the generator is not the bottleneck.
import { writeSync } from 'node:fs'
import { sourceBlock } from '../lib/source.js'

const total = Number(process.argv[2])
if (!Number.isSafeInteger(total) || total < 0) {
  process.stderr.write('gen: usage: gen.js BYTES\n')
  process.exit(2)
}
const block = sourceBlock()
const pause = new Int32Array(new SharedArrayBuffer(4))
let left = total
while (left > 0) {
  const k = Math.min(left, block.length)
  let off = 0
  while (off < k) {
    try {
      off += writeSync(1, block, off, k - off)
    } catch (err) {
      if (err.code === 'EAGAIN') { Atomics.wait(pause, 0, 0, 1); continue } // non-blocking pipe
      if (err.code === 'EPIPE') process.exit(1) // the reader went away; its error is the one to report
      throw err
    }
  }
  left -= k
}
