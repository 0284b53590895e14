/**
 * The attackers of `npm run stress -- --only idle,hellos` (issue 17 section 1), in a worker
 * thread so that the measuring thread's event loop is not theirs: `perSource` connections from
 * each address of `sources` at all times until told to stop. Mode `idle`: each sends nothing
 * and, once the server closes it, is opened again after `reopenMs`. Mode `hello`: each sends
 * the recorded ClientHello with a new random (a fresh ClientHello of an authorized key: one RSA
 * decryption if the server answers), closes once answered, and is opened again at once. Then it
 * posts its counts per source (and, meanwhile, its progress every 500 ms).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { randomBytes } from 'node:crypto'
import { createConnection, type Socket } from 'node:net'

export interface SourcesData { port: number, mode: 'idle' | 'hello', sources: string[], perSource: number, reopenMs: number, clientHello?: Buffer, randomOffset?: number }
export interface SourceCounts {
  from: string
  connections: number
  /** Connections the server answered (a ServerHello: one RSA decryption each). */
  answered: number
  /** Connections the server closed within 1 s of their connect. */
  closedAtOnce: number
  /** Most of its connections open at once. */
  mostOpen: number
}
export interface SourcesResult { seconds: number, counts: SourceCounts[] }
/** Posted every 500 ms while the attack runs: answers so far, all sources together. */
export interface SourcesProgress { answered: number }

const data = workerData as SourcesData
let stopping = false
const live = new Set<Socket>()

function hello(): Buffer {
  const h = Buffer.from(data.clientHello!)
  randomBytes(32).copy(h, data.randomOffset!)
  return h
}

/** One connection; resolves when it has closed (or after 30 s). */
function connection(c: SourceCounts, open: { n: number }): Promise<void> {
  return new Promise(resolve => {
    const socket = createConnection({ host: '127.0.0.1', port: data.port, localAddress: c.from })
    live.add(socket)
    const timer = setTimeout(() => socket.destroy(), 30_000)
    let connectedAt = 0
    socket.on('error', () => {})
    socket.on('connect', () => {
      connectedAt = performance.now()
      c.mostOpen = Math.max(c.mostOpen, ++open.n)
      if (data.mode === 'hello') socket.write(hello())
    })
    socket.on('data', () => {
      if (socket.destroyed) return
      c.answered++
      socket.destroy()
    })
    socket.on('close', () => {
      clearTimeout(timer)
      live.delete(socket)
      c.connections++
      if (connectedAt > 0) {
        open.n--
        if (performance.now() - connectedAt < 1000 && data.mode === 'idle') c.closedAtOnce++
      }
      resolve()
    })
  })
}

async function loop(c: SourceCounts, open: { n: number }): Promise<void> {
  while (!stopping) {
    await connection(c, open)
    if (data.reopenMs > 0 && !stopping) await new Promise(r => setTimeout(r, data.reopenMs))
  }
}

const started = performance.now()
const counts = data.sources.map(from => ({ from, connections: 0, answered: 0, closedAtOnce: 0, mostOpen: 0 }))
const progress = setInterval(() => parentPort!.postMessage({ answered: counts.reduce((n, c) => n + c.answered, 0) } satisfies SourcesProgress), 500)
parentPort!.once('message', () => {
  clearInterval(progress)
  stopping = true
  for (const s of live) s.destroy()
})
await Promise.all(counts.flatMap(c => {
  const open = { n: 0 }
  return Array.from({ length: data.perSource }, () => loop(c, open))
}))
parentPort!.postMessage({ seconds: (performance.now() - started) / 1000, counts } satisfies SourcesResult)
