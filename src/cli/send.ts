/**
 * `secure-pipe send [PATH...|-]` (issues 3 and 9): send files and directories by name, or stdin
 * as one nameless stream, then wait for the receiver's receipt (SPEC 8.5) and exit 0 only when
 * it confirms every entry. Connects by default; `--listen` makes it the handshake server instead.
 */
import type { Argv } from 'yargs'
import { DEFAULT_RECEIPT_TIMEOUT_MS, listSources, sendEntries, sha256Line, streamSource, UsageError, type SendReport, type SourceEntry } from '../index.js'
import { formatAddress } from './address.js'
import { openStream, type SecureStream } from './endpoint.js'
import { createOutput, jsonOption, progressEvents, type Output } from './events.js'
import { resolveRole, seconds, sessionOptions, transferOptions, wantProgress, type Role, type SessionFlags, type TransferArgs } from './options.js'
import { createProgress, formatBytes, summaryFields, summaryLine, type Progress } from './progress.js'
import { errorReport } from './report.js'
import { DEFAULT_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, retryPolicy, type RetryArgs } from './retry.js'
import { onInterrupt } from './signals.js'
import { refuseTerminalInput } from './terminal.js'

export interface SendArgs extends TransferArgs, RetryArgs {
  json?: boolean
  paths?: string[]
  receiptTimeout?: number
  resume?: boolean
  links?: boolean
  /** A '-' was among the arguments (yargs drops it from `paths`). */
  dash?: boolean
}

export function sendBuilder<T>(y: Argv<T>): Argv<T> {
  return jsonOption(transferOptions(y))
    .option('retry', { type: 'number', describe: 'after a network failure, a timeout or a cut, connect again up to N times and resume every file where the receiver\'s copy ends (implies --resume; never after an authentication, key or usage error or a refusal)' })
    .option('retry-delay', { type: 'number', describe: `seconds before the first retry, doubling each time up to ${MAX_RETRY_DELAY_MS / 1000}, with jitter (default ${DEFAULT_RETRY_DELAY_MS / 1000})` })
    .positional('paths', { type: 'string', array: true, describe: 'files and directories to send under their names; - or nothing sends stdin as one stream' })
    .option('resume', { type: 'boolean', describe: 'continue files a receiver holds part of from an interrupted run (after both ends check that part\'s SHA-256)' })
    .option('links', { type: 'boolean', describe: 'send symbolic links inside directories as links (default: skip them with a warning); never followed on the receiver' })
    .option('receipt-timeout', { type: 'number', describe: `seconds to wait for the receiver's answers: before the data, and for the receipt after it (default ${DEFAULT_RECEIPT_TIMEOUT_MS / 1000})` })
    .example('$0 send --connect fileserver:7070 report.pdf photos/', 'send a file and a directory tree under their names')
    .example('$0 send --connect fileserver:7070 --resume big.iso', 'after an interruption: send only what the receiver does not have yet')
    .example('tar c dir | $0 send --connect host:7070', 'send stdin as one stream')
    .example('$0 send --connect 10.0.0.5:7070 --key me.pem --server-key theirPK.pem f.iso', 'explicit keys')
    .example('$0 send --connect fileserver:7070 --retry 5 photos/', 'survive cuts: reconnect and resume up to 5 times')
    .example('$0 send --connect fileserver:7070 --json report.pdf', 'newline-delimited JSON events on stdout, for programs')
    .example('$0 send --listen 0.0.0.0:7070 f.iso', 'wait for a `recv --connect` to fetch the file')
}

/** The paths to send, or undefined for stdin (`-` or nothing). */
function pathArgs(args: SendArgs): string[] | undefined {
  const given = (args.paths ?? []).map(String).filter(p => p !== '' && p !== '-')
  if (given.length === 0) return undefined
  if (args.dash || given.length < (args.paths ?? []).length) throw new UsageError('- (stdin) cannot be combined with other paths; send stdin on its own')
  return given
}

export async function send(args: SendArgs): Promise<void> {
  const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'send' })
  const log = out.log
  const paths = pathArgs(args)
  const policy = retryPolicy(args)
  if (policy.retries > 0 && !paths) throw new UsageError('--retry needs files or directories: stdin cannot be read again for another attempt')
  // List the files before connecting, so a typo fails at once (exit 2) rather than after the handshake.
  if (!paths) refuseTerminalInput(args)
  const entries: SourceEntry[] = paths ? await listSources(paths, { links: args.links === true, warn: line => log.warn(line) }) : [streamSource(process.stdin)]
  const session = sessionOptions(args) // flag errors before key errors
  const receiptTimeoutMs = args.receiptTimeout === undefined ? DEFAULT_RECEIPT_TIMEOUT_MS : seconds(args.receiptTimeout, '--receipt-timeout')
  const role = await resolveRole(args, 'connect')
  if (policy.retries > 0 && role.mode !== 'connect') throw new UsageError('--retry reconnects to a receiver; it does not apply with --listen')
  // Issue 19 §3: every attempt asks for resume, so a cut leaves the receiver's partial files for the next one.
  const attempt: Attempt = { role, session, entries, paths, receiptTimeoutMs, resume: args.resume === true || policy.retries > 0, progress: !out.json && wantProgress(args), sha256: args.sha256 === true }
  for (let n = 1; ; n++) {
    try {
      await sendOnce(attempt, policy.retries > 0 ? out.with({ attempt: n }) : out)
      return
    } catch (err) {
      if (!policy.retryable(err, n)) throw err
      const delayMs = policy.delayMs(n)
      const error = errorReport(err)
      out.emit('retry', { attempt: n, retries: policy.retries, delayMs, error }, `secure-pipe: attempt ${n} of ${policy.retries + 1} failed: ${error.message} (${error.code}); trying again in ${(delayMs / 1000).toFixed(1)} s`)
      const release = onInterrupt(() => {}) // Ctrl-C while waiting: exit 130 with its line, as during an attempt
      await new Promise(resolve => setTimeout(resolve, delayMs))
      release()
    }
  }
}

/** What every attempt of one `send` shares. */
interface Attempt {
  role: Role
  session: SessionFlags
  entries: SourceEntry[]
  paths: string[] | undefined
  receiptTimeoutMs: number
  resume: boolean
  progress: boolean
  sha256: boolean
}

/** One connection and transfer, reported as events (or lines) on `out`. */
async function sendOnce(a: Attempt, out: Output): Promise<void> {
  const { entries, paths } = a
  let stream: SecureStream | undefined
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); stream?.destroy(); process.stdin.destroy() })
  try {
    stream = await openStream(a.role, a.session, out.log)
    // A client's stream is made before its socket connects, so it may not know the address: the one dialled.
    const peer = stream.remoteAddress !== 'unknown' ? stream.remoteAddress : formatAddress(a.role.address)
    out.emit('connected', { peer, fingerprint: stream.peerFingerprint ?? 'unknown' })
    const startedAt = performance.now()
    const p = progress = out.json ? progressEvents(out) : await createProgress(a.progress, 'send')
    let already = 0
    const report = await sendEntries(stream, entries, {
      resume: a.resume,
      receiptTimeoutMs: a.receiptTimeoutMs,
      onPlan: plan => {
        already = plan.resumedBytes
        out.emit('plan', { entries: entries.length, files: entries.filter(e => e.type === 'file').length, ...plan })
        if (paths) p.plan(plan.bytes + plan.resumedBytes, `send ${countOf(entries)}`)
      },
      onProgress: bytes => p.update(already + bytes),
      ...(a.sha256 ? { onSha256: (name: string, hex: string) => out.emit('sha256', { name: name || null, sha256: hex }, sha256Line(hex, name || '-')) } : {}),
    })
    progress.stop()
    emitConfirmed(out, entries, report)
    const fingerprint = stream.peerFingerprint ?? 'unknown'
    out.emit('summary', summaryFields(report, entries.length, startedAt, fingerprint), summaryLine('sent', report.bytes, startedAt, fingerprint, describe(report), paths ? `${countOf(entries)}, ` : ''))
  } catch (err) {
    stream?.destroy()
    throw err
  } finally {
    progress?.stop()
    release()
  }
}

/** Under --json: the verified receipt, and each entry it confirms. */
function emitConfirmed(out: Output, entries: readonly SourceEntry[], report: SendReport): void {
  if (!out.json) return
  for (const e of entries) out.emit('entry', { name: e.type === 'stream' ? null : e.name, type: e.type, bytes: e.type === 'stream' ? report.bytes : e.size, outcome: report.outcome })
  out.emit('receipt', { entries: report.entries, outcome: report.outcome })
}

/** `12 files` or `1 file and 3 directories`. */
export function countOf(entries: ReadonlyArray<{ type: string }>): string {
  const files = entries.filter(e => e.type !== 'directory').length
  const dirs = entries.length - files
  const f = `${files} file${files === 1 ? '' : 's'}`
  return dirs === 0 ? f : `${f} and ${dirs} director${dirs === 1 ? 'y' : 'ies'}`
}

function describe(r: SendReport): string {
  const resumed = r.resumedBytes > 0 ? `; ${r.resumedBytes} bytes (${formatBytes(r.resumedBytes)}) were already on the receiver (resumed)` : ''
  const outcome = r.outcome === 'durable' ? 'receipt verified: durable on the receiver' : 'receipt verified: delivered to the receiver\'s output (stdout, FIFO or device: not durable)'
  return `${resumed}; ${outcome}`
}

