/**
 * `secure-pipe send [PATH...|-]` (issues 3 and 9): send files and directories by name, or stdin
 * as one nameless stream, then wait for the receiver's receipt (SPEC 8.5) and exit 0 only when
 * it confirms every entry. Connects by default; `--listen` makes it the handshake server instead.
 */
import type { Argv } from 'yargs'
import { DEFAULT_RECEIPT_TIMEOUT_MS, listSources, sendEntries, sha256Line, streamSource, UsageError, type SendReport, type SourceEntry } from '../index.js'
import { openStream, type SecureStream } from './endpoint.js'
import { resolveRole, seconds, sessionOptions, transferOptions, wantProgress, type TransferArgs } from './options.js'
import { createProgress, formatBytes, summaryLine, type Progress } from './progress.js'
import { createLog } from './report.js'
import { onInterrupt } from './signals.js'
import { refuseTerminalInput } from './terminal.js'

export interface SendArgs extends TransferArgs {
  paths?: string[]
  receiptTimeout?: number
  resume?: boolean
  links?: boolean
  /** A '-' was among the arguments (yargs drops it from `paths`). */
  dash?: boolean
}

export function sendBuilder<T>(y: Argv<T>): Argv<T> {
  return transferOptions(y)
    .positional('paths', { type: 'string', array: true, describe: 'files and directories to send under their names; - or nothing sends stdin as one stream' })
    .option('resume', { type: 'boolean', describe: 'continue files a receiver holds part of from an interrupted run (after both ends check that part\'s SHA-256)' })
    .option('links', { type: 'boolean', describe: 'send symbolic links inside directories as links (default: skip them with a warning); never followed on the receiver' })
    .option('receipt-timeout', { type: 'number', describe: `seconds to wait for the receiver's answers: before the data, and for the receipt after it (default ${DEFAULT_RECEIPT_TIMEOUT_MS / 1000})` })
    .example('$0 send --connect fileserver:7070 report.pdf photos/', 'send a file and a directory tree under their names')
    .example('$0 send --connect fileserver:7070 --resume big.iso', 'after an interruption: send only what the receiver does not have yet')
    .example('tar c dir | $0 send --connect host:7070', 'send stdin as one stream')
    .example('$0 send --connect 10.0.0.5:7070 --key me.pem --server-key theirPK.pem f.iso', 'explicit keys')
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
  const log = createLog(args.quiet === true)
  const paths = pathArgs(args)
  // List the files before connecting, so a typo fails at once (exit 2) rather than after the handshake.
  if (!paths) refuseTerminalInput(args)
  const entries: SourceEntry[] = paths ? await listSources(paths, { links: args.links === true, warn: line => log.warn(line) }) : [streamSource(process.stdin)]
  const session = sessionOptions(args) // flag errors before key errors
  const receiptTimeoutMs = args.receiptTimeout === undefined ? DEFAULT_RECEIPT_TIMEOUT_MS : seconds(args.receiptTimeout, '--receipt-timeout')
  const role = await resolveRole(args, 'connect')
  let stream: SecureStream | undefined
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); stream?.destroy(); process.stdin.destroy() })
  try {
    stream = await openStream(role, session, log)
    const startedAt = performance.now()
    const p = progress = await createProgress(wantProgress(args), 'send')
    let already = 0
    const report = await sendEntries(stream, entries, {
      resume: args.resume === true,
      receiptTimeoutMs,
      onPlan: plan => { already = plan.resumedBytes; if (paths) p.plan(plan.bytes + plan.resumedBytes, `send ${countOf(entries)}`) },
      onProgress: bytes => p.update(already + bytes),
      ...(args.sha256 ? { onSha256: (name: string, hex: string) => log.info(sha256Line(hex, name || '-')) } : {}),
    })
    progress.stop()
    log.info(summaryLine('sent', report.bytes, startedAt, stream.peerFingerprint ?? 'unknown', describe(report), paths ? `${countOf(entries)}, ` : ''))
  } catch (err) {
    stream?.destroy()
    throw err
  } finally {
    progress?.stop()
    release()
  }
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

