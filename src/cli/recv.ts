/**
 * `secure-pipe recv [DIR|FILE|-]` (issues 3, 5 and 9): receive a transfer (SPEC 8) into a
 * directory under the sender's names, into one FILE, or to stdout; answer with the receipt,
 * print a summary and exit. `--keep-open` serves transfers into the directory until stopped.
 * Listens by default; `--connect` makes it the handshake client instead.
 */
import { stat } from 'node:fs/promises'
import type { Argv } from 'yargs'
import { checkOutputFile, receiveEntries, sha256Line, UsageError, type Destination, type ReceiveOptions, type ReceiveReport } from '../index.js'
import { listen, openStream, type SecureStream } from './endpoint.js'
import { resolveRole, sessionOptions, transferOptions, wantProgress, type Role, type SessionFlags, type TransferArgs } from './options.js'
import { createOutput, jsonOption, progressEvents, type Output } from './events.js'
import { createProgress, formatBytes, summaryFields, summaryLine, type Progress } from './progress.js'
import { errorReport, formatError } from './report.js'
import { reportPartials } from './partials.js'
import { countOf } from './send.js'
import { checkFileDirectory, checkWritable, makeDirectory } from './output-path.js'
import { onInterrupt } from './signals.js'
import { refuseTerminalOutput } from './terminal.js'

export interface RecvArgs extends TransferArgs {
  json?: boolean
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
  return jsonOption(transferOptions(y))
    .positional('file', { type: 'string', describe: 'an existing DIR or DIR/ (created; entries under their names), a FILE (exactly one file), or - / nothing for stdout' })
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
    .example('$0 recv --keep-open --json --output-dir inbox/', 'the same, with one JSON event per line on stdout (each with its transfer number)')
}

/** Issue 19 §2: the data goes to stdout (no DIR, FILE or --output-dir), so --json events go to stderr. */
export function dataOnStdout(args: Pick<RecvArgs, 'file' | 'outputDir'>): boolean {
  return args.outputDir === undefined && (args.file === undefined || args.file === '' || args.file === '-')
}

/** Where the data goes, decided (and checked) before listening, so a mistake fails at once. */
async function destinationOf(args: RecvArgs): Promise<Destination> {
  const file = args.file === undefined || args.file === '' || args.file === '-' ? undefined : args.file
  if (args.outputDir !== undefined) {
    if (file !== undefined) throw new UsageError('give either a DIR or FILE argument or --output-dir, not both')
    if (args.outputDir === '') throw new UsageError('--output-dir needs a directory')
    await makeDirectory(args.outputDir, '--output-dir')
    return { kind: 'directory', path: args.outputDir }
  }
  if (file === undefined) {
    refuseTerminalOutput(args)
    return { kind: 'writable', writable: process.stdout, name: 'stdout' }
  }
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    await checkWritable(file, 'the directory')
    return { kind: 'directory', path: file }
  }
  // issue 17 section 6: `recv newdir/` (the slash says directory) creates it; a FILE needs its directory.
  if (/[/\\]$/.test(file)) {
    await makeDirectory(file, 'the directory')
    return { kind: 'directory', path: file }
  }
  await checkFileDirectory(file)
  await checkOutputFile(file, args.force === true)
  return { kind: 'file', path: file }
}

export async function recv(args: RecvArgs): Promise<void> {
  const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'recv', dataOnStdout: dataOnStdout(args) })
  const dest = await destinationOf(args)
  if (args.keepOpen && dest.kind !== 'directory') throw new UsageError('--keep-open needs a directory to receive into: --output-dir DIR (or an existing DIR)')
  const session = sessionOptions(args) // flag errors before key errors
  if (dest.kind === 'directory') await reportPartials(dest.path, args.clearPartials, out.log)
  else if (args.clearPartials !== undefined) throw new UsageError('--clear-partials needs a directory to receive into')
  const role = await resolveRole(args, 'listen')
  const active = new Set<SecureStream>()
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); for (const s of active) s.destroy() })
  const opts: ReceiveOptions = { force: args.force === true, ...(args.resume === false ? { resume: false } : {}) }
  try {
    if (args.keepOpen) {
      if (role.mode !== 'listen') throw new UsageError('--keep-open serves transfers as the listening side; drop --connect')
      await serveForever(role, { idleTimeoutMs: SERVE_IDLE_TIMEOUT_MS, ...session }, dest, opts, active, out, args.sha256 === true)
    }
    const stream = await openStream(role, session, out.log)
    progress = out.json ? progressEvents(out) : await createProgress(wantProgress(args), 'recv')
    await receiveOne(stream, dest, opts, active, out, progress, args.sha256 === true)
  } finally {
    progress?.stop()
    release()
  }
}

/** One transfer: progress with total, count and ETA once the plan is known, and the summary line (or their events). */
async function receiveOne(stream: SecureStream, dest: Destination, opts: ReceiveOptions, active: Set<SecureStream>, out: Output, progress: Pick<Progress, 'plan' | 'update' | 'stop'>, sha256: boolean): Promise<void> {
  active.add(stream)
  const fingerprint = stream.peerFingerprint ?? 'unknown'
  out.emit('connected', { peer: stream.remoteAddress, fingerprint })
  const startedAt = performance.now()
  let already = 0
  try {
    const report = await receiveEntries(stream, dest, {
      ...opts,
      onPlan: plan => {
        already = plan.resumedBytes
        out.emit('plan', { entries: plan.entries.length, files: plan.entries.filter(e => e.type === 'file').length, bytes: plan.bytes, resumedBytes: plan.resumedBytes })
        if (plan.entries[0]?.type !== 'stream') progress.plan(plan.bytes + plan.resumedBytes, `recv ${countOf(plan.entries)}`)
      },
      onProgress: bytes => progress.update(already + bytes),
      ...(sha256 ? { onSha256: (name: string, hex: string) => out.emit('sha256', { name: name || null, sha256: hex }, sha256Line(hex, name || '-')) } : {}),
    })
    progress.stop()
    emitReceived(out, report)
    const named = report.entries[0]?.type !== 'stream'
    const resumed = report.resumedBytes > 0 ? `; ${report.resumedBytes} bytes (${formatBytes(report.resumedBytes)}) were already here (resumed)` : ''
    const outcome = report.outcome === 'durable' ? '' : ' (delivered, not durable)'
    out.emit('summary', summaryFields(report, report.entries.length, startedAt, fingerprint, report.where), summaryLine('received', report.bytes, startedAt, fingerprint, `${resumed}; into ${report.where}${outcome}`, named ? `${countOf(report.entries)}, ` : ''))
  } catch (err) {
    stream.destroy() // no receipt: the sender reports that we may not have the data
    throw err
  } finally {
    active.delete(stream)
  }
}

/** Under --json: each entry made durable (or delivered), then the receipt that says so. */
function emitReceived(out: Output, report: ReceiveReport): void {
  if (!out.json) return
  for (const e of report.entries) out.emit('entry', { name: e.type === 'stream' ? null : e.name, type: e.type, bytes: e.type === 'stream' ? report.bytes : e.size, outcome: report.outcome })
  out.emit('receipt', { entries: report.entries.length, outcome: report.outcome })
}

/** `--keep-open`: transfers run concurrently (no progress bar: they would overwrite each other), one summary line each; events carry a transfer number. */
async function serveForever(role: Extract<Role, { mode: 'listen' }>, session: SessionFlags & { idleTimeoutMs: number }, dest: Destination, opts: ReceiveOptions, active: Set<SecureStream>, out: Output, sha256: boolean): Promise<never> {
  const none = await createProgress(false, 'recv')
  let transfers = 0
  await listen(role, session, out.log, stream => {
    const one = out.with({ transfer: ++transfers })
    receiveOne(stream, dest, opts, active, one, one.json ? progressEvents(one) : none, sha256).catch(err => {
      one.emit('error', { ...errorReport(err), final: false }, formatError(err).replace(/^secure-pipe: /, `secure-pipe: transfer from ${stream.remoteAddress} failed: `))
    })
  })
  return new Promise<never>(() => {}) // until a signal ends the process (exit 130/143)
}
