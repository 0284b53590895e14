/**
 * Helpers for the transfer-by-name tests (SPEC 8, issue 9): run one CLI transfer (`recv`
 * listening, `send` connecting), snapshot a tree on disk (type, mode, mtime, size, content hash,
 * link target) and parse the summary lines both ends print. Every walk is bounded by the tree.
 */
import { lstat, readdir, readlink } from 'node:fs/promises'
import { readdirSync, statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import {
  ByteQueue, connect, createServer, encodeManifest, loadAuthorizedKeys, loadPrivateKey, loadPublicKey, receiveEntries, takeReady, takeReceipt,
  type Destination, type Entry, type Offer, type Receipt, type ReceiveOptions, type ReceiveReport, type SecurePipeError, type SecureStream,
} from '../../src/index.js'
import { connectArgs, listenArgs, sha256File, sleep, spawnCli, waitFor, waitForListening, type CliProcess, type CliResult, type Teardown, type TestKeys } from './cli.js'

/** `send`'s stdin (for `send -`): bytes, or a stream piped in; and both processes' time limit. */
export interface TransferOptions { stdin?: Buffer | Readable, timeoutMs?: number }

/** One CLI transfer's two results. */
export interface Pair { send: CliResult, recv: CliResult }

/** Start `recv ...recvArgs` listening, then `send ...sendArgs` connecting to it; wait for both. */
export async function cliTransfer(t: Teardown, keys: TestKeys, recvArgs: string[], sendArgs: string[], opts: TransferOptions = {}): Promise<Pair> {
  const { recv, send } = await startTransfer(t, keys, recvArgs, sendArgs, opts)
  return { send: await send.done, recv: await recv.done }
}

/** Both processes of a transfer, running (for tests that watch or kill them). */
export async function startTransfer(t: Teardown, keys: TestKeys, recvArgs: string[], sendArgs: string[], opts: TransferOptions = {}): Promise<{ recv: CliProcess, send: CliProcess }> {
  const timeout = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), ...recvArgs], timeout)
  const port = await waitForListening(recv)
  const send = spawnCli(t, ['send', ...connectArgs(keys, port), ...sendArgs], { ...timeout, ...(opts.stdin ? { stdin: 'pipe' as const } : {}) })
  if (Buffer.isBuffer(opts.stdin)) send.child.stdin!.end(opts.stdin)
  else opts.stdin?.pipe(send.child.stdin!)
  return { recv, send }
}

/** What a path is on disk, as a transfer must reproduce it. */
export interface DiskNode {
  type: 'file' | 'directory' | 'symlink' | 'other'
  /** Permission bits. */
  mode: number
  /** Whole milliseconds (what SPEC 8.1 carries). */
  mtimeMs: number
  size: number
  sha256?: string
  target?: string
}

/** Every path under `root` (not `root` itself) by its '/'-separated relative name, links not followed. */
export async function snapshot(root: string): Promise<Map<string, DiskNode>> {
  const out = new Map<string, DiskNode>()
  const stack: string[] = ['']
  while (stack.length > 0) {
    const rel = stack.pop()!
    for (const child of (await readdir(join(root, rel))).sort()) {
      const name = rel === '' ? child : `${rel}/${child}`
      const path = join(root, name)
      const st = await lstat(path)
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other'
      // A directory's size is its listing's, which ext4 never shrinks (the receiver's notes come and go, SPEC 8.6): not compared.
      const node: DiskNode = { type, mode: st.mode & 0o7777, mtimeMs: Math.trunc(st.mtimeMs), size: type === 'directory' ? 0 : st.size }
      if (type === 'file') node.sha256 = await sha256File(path)
      if (type === 'symlink') node.target = await readlink(path)
      if (type === 'directory') stack.push(name)
      out.set(name, node)
    }
  }
  return out
}

/**
 * Set `path`'s mtime (and atime) to exactly `ms` whole milliseconds. `utimes(ms / 1000)` can land
 * a nanosecond below the millisecond (the double is rounded down and libuv keeps microseconds).
 */
export function setMtimeMs(path: string, ms: number): void {
  const seconds = (ms + 0.0005) / 1000
  utimesSync(path, seconds, seconds)
}

/** The numbers of one summary line (`sent 3 files and 1 directory, 12 bytes ...; 5 bytes (...) were already ... (resumed)`). */
export interface Summary { files: number | undefined, directories: number, bytes: number, resumed: number }

/** Parse the `sent` or `received` summary line from a CLI's stderr; undefined if there is none. */
export function summaryOf(stderr: string, verb: 'sent' | 'received'): Summary | undefined {
  const line = stderr.split('\n').find(l => l.startsWith(`${verb} `))
  if (line === undefined) return undefined
  const m = new RegExp(`^${verb} (?:(\\d+) files?(?: and (\\d+) director(?:y|ies))?, )?(\\d+) bytes `).exec(line)
  if (!m) return undefined
  const resumed = /; (\d+) bytes \([^)]*\) were already (?:on the receiver|here) \(resumed\)/.exec(line)
  return { files: m[1] === undefined ? undefined : Number(m[1]), directories: Number(m[2] ?? 0), bytes: Number(m[3]), resumed: resumed ? Number(resumed[1]) : 0 }
}

/** The first file in `dir` whose name matches `pattern`, with its size (undefined if none, or gone meanwhile). */
export function fileMatching(dir: string, pattern: RegExp): { name: string, size: number } | undefined {
  let names: string[]
  try { names = readdirSync(dir) } catch { return undefined } // not created yet
  for (const name of names) {
    if (!pattern.test(name)) continue
    try { return { name, size: statSync(join(dir, name)).size } } catch { /* renamed or removed meanwhile */ }
  }
  return undefined
}

/**
 * Start a transfer and send `signal` (SIGKILL) to `victim` once a file in `watch` matching `pattern` (a partial
 * file) holds `threshold` bytes (polled every 5 ms, for at most 120 s). Throws if the transfer
 * ends before that point.
 */
export async function killWhen(t: Teardown, keys: TestKeys, victim: 'send' | 'recv', watch: { dir: string, pattern: RegExp, threshold: number }, recvArgs: string[], sendArgs: string[], signal: NodeJS.Signals = 'SIGKILL'): Promise<Pair & { at: number }> {
  const p = await startTransfer(t, keys, recvArgs, sendArgs, { timeoutMs: 200_000 })
  const deadline = Date.now() + 120_000
  let at = 0
  while (at < watch.threshold) {
    if (p.send.child.exitCode !== null || p.recv.child.exitCode !== null) throw new Error(`the transfer ended before ${watch.threshold} bytes arrived: ${p.send.stderr()} ${p.recv.stderr()}`)
    if (Date.now() > deadline) throw new Error(`the partial file did not reach ${watch.threshold} bytes within 120 s`)
    await sleep(5)
    at = fileMatching(watch.dir, watch.pattern)?.size ?? 0
  }
  p[victim].child.kill(signal)
  const [send, recv] = await Promise.all([p.send.done, p.recv.done])
  return { send, recv, at }
}

/**
 * An in-process receiver (the library's `receiveEntries` behind `createServer`) for one
 * transfer into `dest`; `result` settles with its report or its error (issue 17 section 7).
 */
export async function libReceiver(t: Teardown, keys: TestKeys, dest: Destination, opts: ReceiveOptions = {}): Promise<{ port: number, result: Promise<ReceiveReport | SecurePipeError> }> {
  let settle!: (r: ReceiveReport | SecurePipeError) => void
  const result = new Promise<ReceiveReport | SecurePipeError>(resolve => { settle = resolve })
  const server = createServer({ privateKey: loadPrivateKey(keys.server), authorizedKeys: loadAuthorizedKeys(keys.clientPK) }, stream => {
    receiveEntries(stream, dest, opts).then(settle, settle)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return { port: (server.address() as AddressInfo).port, result }
}

/**
 * A sender built from the library's message functions, each step timed by the test: the manifest
 * and the Ready it gets, then whatever the test writes (plan, content), then the receipt. Between
 * Ready and the plan the test can change the receiver's disk: a race made deterministic.
 */
export class StepSender {
  readonly #q = new ByteQueue()
  #ended = false
  private constructor(readonly stream: SecureStream) {
    stream.on('data', (c: Buffer) => this.#q.push(c))
    stream.on('end', () => { this.#ended = true })
    stream.on('close', () => { this.#ended = true })
    stream.on('error', () => {})
  }

  static async connect(port: number, keys: TestKeys): Promise<StepSender> {
    return new StepSender(await connect({ host: '127.0.0.1', port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) }))
  }

  /** Send the manifest; the offers of the Ready that answers it (a refusing receipt throws). */
  async manifest(entries: readonly Entry[], resume: boolean): Promise<Offer[]> {
    this.stream.write(encodeManifest(entries, { resume }))
    let offers: Offer[] | null = null
    await waitFor(() => this.#ended || (this.#q.length >= 4 && this.#q.peek(4)!.toString('latin1') === 'SPRC') || (offers = takeReady(this.#q, entries, resume)) !== null, 'the answer to the manifest')
    if (offers === null) throw new Error(`no Ready: ${JSON.stringify(takeReceipt(this.#q))}`)
    return offers
  }

  write(...chunks: Buffer[]): void {
    for (const c of chunks) this.stream.write(c)
  }

  /** End our direction (the close record), then read the receiver's receipt, if it sends one. */
  async end(): Promise<Receipt | null> {
    this.stream.end()
    await waitFor(() => this.#ended, 'the end of the receiver\'s direction')
    this.stream.destroy()
    return takeReceipt(this.#q)
  }
}
