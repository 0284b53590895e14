/**
 * The flood of `npm run stress -- --only flood` (issue 8.5), in a worker thread so that the
 * measuring thread's event loop is not the flood's: `concurrency` connections from 127.0.1.2 at
 * all times until told to stop, each sending in turn a replayed ClientHello (refused by the
 * replay cache), the same with a new random at `randomOffset` (costs the server an RSA
 * decryption, then fails at Finished), or 4 KiB of random bytes; if answered, it sends the
 * recorded ClientFinished. Then it posts its counts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'

export interface FloodData { port: number, from: string, concurrency: number, clientHello: Buffer, clientFinished: Buffer, randomOffset: number }
export interface FloodCounts { connections: number, answered: number, refusedUnread: number }

const data = workerData as FloodData
const GARBAGE = Array.from({ length: 16 }, () => randomBytes(4096))
const counts: FloodCounts = { connections: 0, answered: 0, refusedUnread: 0 }
let stopping = false

/** The recorded ClientHello with a random never sent before. */
function newRandom(): Buffer {
  const hello = Buffer.from(data.clientHello)
  randomBytes(32).copy(hello, data.randomOffset)
  return hello
}

/** One hostile connection; resolves when the server has closed it (or after 15 s). */
function once(n: number): Promise<void> {
  return new Promise(resolve => {
    const socket = createConnection({ host: '127.0.0.1', port: data.port, localAddress: data.from })
    let received = 0
    const timer = setTimeout(() => socket.destroy(), 15_000)
    socket.on('error', () => {})
    socket.on('data', (c: Buffer) => {
      if (received === 0) { counts.answered++; socket.write(data.clientFinished) }
      received += c.length
    })
    socket.on('close', () => {
      clearTimeout(timer)
      counts.connections++
      if (received === 0) counts.refusedUnread++
      resolve()
    })
    socket.on('connect', () => {
      if (n % 3 === 2) socket.end(GARBAGE[n % 16]) // garbage and the end, or the server would wait for more
      else socket.write(n % 3 === 0 ? data.clientHello : newRandom())
    })
  })
}

async function loop(): Promise<void> {
  for (let n = 0; !stopping; n++) await once(n)
}

parentPort!.once('message', () => { stopping = true })
await Promise.all(Array.from({ length: data.concurrency }, loop))
parentPort!.postMessage(counts)
