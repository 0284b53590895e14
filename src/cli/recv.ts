/**
 * `secure-pipe recv [DIR|FILE|-]` (issues 3, 5 and 9): receive a transfer (SPEC 8) into a
 * directory under the sender's names, into one FILE, or to stdout; answer with the receipt,
 * print a summary and exit. `--keep-open` serves transfers into the directory until stopped.
 * Listens by default; `--connect` makes it the handshake client instead.
 */
import { mkdir, stat } from 'node:fs/promises'
import type { Argv } from 'yargs'
import { checkOutputFile, ioError, receiveEntries, sha256Line, UsageError, type Destination, type ReceiveOptions } from '../index.js'
import { listen, openStream, type SecureStream } from './endpoint.js'
import { resolveRole, sessionOptions, transferOptions, wantProgress, type Role, type SessionFlags, type TransferArgs } from './options.js'
import { reportPartials } from './partials.js'
import { createProgress, formatBytes, summaryLine, type Progress } from './progress.js'
import { createLog, formatError, type Log } from './report.js'
import { countOf } from './send.js'
import { onInterrupt } from './signals.js'
import { refuseTerminalOutput } from './terminal.js'

export interface RecvArgs extends TransferArgs {
  file?: string
  force?: boolean
  keepOpen?: boolean
  outputDir?: string
  resume?: boolean
  clearPartials?: string
}

/** Issue 5: a long-running server drops connections idle for this long unless --idle-timeout says otherwise. */
export const SERVE_IDLE_TIMEOUT_MS = 60_000

export function recvBuilder<T>(y: Argv<T>): Argv<T> {
  return transferOptions(y)
    .positional('file', { type: 'string', describe: 'an existing DIR (entries under their names), a FILE (exactly one file), or - / nothing for stdout' })
    .option('force', { alias: 'f', type: 'boolean', describe: 'replace existing files (only after each one\'s complete transfer; links are replaced, never followed)' })
    .option('output-dir', { alias: 'o', type: 'string', describe: 'directory for the received entries (created if missing)' })
    .option('keep-open', { type: 'boolean', describe: 'serve transfers until stopped, each into --output-dir (listening only)' })
    .option('resume', { type: 'boolean', describe: 'keep the partial files of cut transfers and honour a sender\'s --resume (default yes); --no-resume keeps no partial files and restarts every file' })
    .option('clear-partials', { type: 'string', requiresArg: true, describe: 'at start, remove the partial files of cut transfers older than AGE (7d, 12h, 30m; 0: all) from the directory' })
    .example('$0 recv --listen 0.0.0.0:7070 inbox/', 'accept a peer in authorized_keys (see `secure-pipe authorize`), write what it sends under inbox/')
    .example('$0 recv --listen 0.0.0.0:7070 out.bin', 'receive exactly one file as out.bin')
    .example('$0 recv --listen 0.0.0.0:7070 - | tar x', 'write one stream to stdout')
    .example('$0 recv --listen 127.0.0.1:0 --quiet inbox/', 'pick a free port; read it from the "listening on" line')
    .example('$0 recv --connect host:7070 inbox/', 'fetch from a listening `send --listen`')
    .example('$0 recv --keep-open --output-dir inbox/', 'a drop box: receive transfers until Ctrl-C')
}

/** Where the data goes, decided (and checked) before listening, so a mistake fails at once. */
async function destinationOf(args: RecvArgs): Promise<Destination> {
  const file = args.file === undefined || args.file === '' || args.file === '-' ? undefined : args.file
  if (args.outputDir !== undefined) {
    if (file !== undefined) throw new UsageError('give either a DIR or FILE argument or --output-dir, not both')
    if (args.outputDir === '') throw new UsageError('--output-dir needs a directory')
    await mkdir(args.outputDir, { recursive: true }).catch(err => { throw ioError(err, `cannot create --output-dir ${args.outputDir}`) })
    return { kind: 'directory', path: args.outputDir }
  }
  if (file === undefined) {
    refuseTerminalOutput(args)
    return { kind: 'writable', writable: process.stdout, name: 'stdout' }
  }
  if ((await stat(file).catch(() => undefined))?.isDirectory()) return { kind: 'directory', path: file }
  await checkOutputFile(file, args.force === true)
  return { kind: 'file', path: file }
}

export async function recv(args: RecvArgs): Promise<void> {
  const dest = await destinationOf(args)
  if (args.keepOpen && dest.kind !== 'directory') throw new UsageError('--keep-open needs a directory to receive into: --output-dir DIR (or an existing DIR)')
  const session = sessionOptions(args) // flag errors before key errors
  if (dest.kind === 'directory') await reportPartials(dest.path, args.clearPartials, createLog(args.quiet === true))
  else if (args.clearPartials !== undefined) throw new UsageError('--clear-partials needs a directory to receive into')
  const role = await resolveRole(args, 'listen')
  const log = createLog(args.quiet === true)
  const active = new Set<SecureStream>()
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); for (const s of active) s.destroy() })
  const opts: ReceiveOptions = { force: args.force === true, ...(args.resume === false ? { resume: false } : {}) }
  try {
    if (args.keepOpen) {
      if (role.mode !== 'listen') throw new UsageError('--keep-open serves transfers as the listening side; drop --connect')
      await serveForever(role, { idleTimeoutMs: SERVE_IDLE_TIMEOUT_MS, ...session }, dest, opts, active, log, args.sha256 === true)
    }
    const stream = await openStream(role, session, log)
    progress = await createProgress(wantProgress(args), 'recv')
    await receiveOne(stream, dest, opts, active, log, progress, args.sha256 === true)
  } finally {
    progress?.stop()
    release()
  }
}

/** One transfer: progress with total, count and ETA once the plan is known, and the summary line. */
async function receiveOne(stream: SecureStream, dest: Destination, opts: ReceiveOptions, active: Set<SecureStream>, log: Log, progress: Progress, sha256: boolean): Promise<void> {
  active.add(stream)
  const startedAt = performance.now()
  let already = 0
  try {
    const report = await receiveEntries(stream, dest, {
      ...opts,
      onPlan: plan => { already = plan.resumedBytes; if (plan.entries[0]?.type !== 'stream') progress.plan(plan.bytes + plan.resumedBytes, `recv ${countOf(plan.entries)}`) },
      onProgress: bytes => progress.update(already + bytes),
      ...(sha256 ? { onSha256: (name: string, hex: string) => log.info(sha256Line(hex, name || '-')) } : {}),
    })
    progress.stop()
    const named = report.entries[0]?.type !== 'stream'
    const resumed = report.resumedBytes > 0 ? `; ${report.resumedBytes} bytes (${formatBytes(report.resumedBytes)}) were already here (resumed)` : ''
    const outcome = report.outcome === 'durable' ? '' : ' (delivered, not durable)'
    log.info(summaryLine('received', report.bytes, startedAt, stream.peerFingerprint ?? 'unknown', `${resumed}; into ${report.where}${outcome}`, named ? `${countOf(report.entries)}, ` : ''))
  } catch (err) {
    stream.destroy() // no receipt: the sender reports that we may not have the data
    throw err
  } finally {
    active.delete(stream)
  }
}

/** `--keep-open`: transfers run concurrently (no progress bar: they would overwrite each other), one summary line each. */
async function serveForever(role: Extract<Role, { mode: 'listen' }>, session: SessionFlags & { idleTimeoutMs: number }, dest: Destination, opts: ReceiveOptions, active: Set<SecureStream>, log: Log, sha256: boolean): Promise<never> {
  const none = await createProgress(false, 'recv')
  await listen(role, session, log, stream => {
    receiveOne(stream, dest, opts, active, log, none, sha256).catch(err => log.warn(formatError(err).replace(/^secure-pipe: /, `secure-pipe: transfer from ${stream.remoteAddress} failed: `)))
  })
  return new Promise<never>(() => {}) // until a signal ends the process (exit 130/143)
}
