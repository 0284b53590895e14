/**
 * `secure-pipe send [FILE|-]` (issue 3): send FILE or stdin, half-close, then wait for the
 * receiver's delivery receipt (SPEC 8) and exit 0 only if it matches what was sent.
 * Connects by default; `--listen` makes it the handshake server instead.
 */
import { open, stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Argv } from 'yargs'
import { SecurePipeError, toNetworkError } from '../index.js'
import { ioError } from './atomic-file.js'
import { openStream, type SecureStream } from './endpoint.js'
import { Meter } from './meter.js'
import { fileArg, resolveRole, seconds, sessionOptions, transferOptions, wantProgress, type TransferArgs } from './options.js'
import { createProgress, summaryLine, type Progress } from './progress.js'
import { checkReceipt, collectReceipt, DEFAULT_RECEIPT_TIMEOUT_MS, noReceiptError, receiptWithin } from './receipt.js'
import { createLog } from './report.js'
import { onInterrupt } from './signals.js'

export interface SendArgs extends TransferArgs {
  receiptTimeout?: number
}

export function sendBuilder<T>(y: Argv<T>): Argv<T> {
  return transferOptions(y)
    .option('receipt-timeout', { type: 'number', describe: `seconds to wait for the delivery receipt after the end of the data (default ${DEFAULT_RECEIPT_TIMEOUT_MS / 1000})` })
    .example('$0 send --connect fileserver:7070 data.bin', 'send data.bin with this machine\'s identity, checking the key pinned for fileserver')
    .example('tar c dir | $0 send --connect host:7070', 'send stdin')
    .example('$0 send --connect 10.0.0.5:7070 --key me.pem --server-key theirPK.pem f.iso', 'explicit keys')
    .example('$0 send --listen 0.0.0.0:7070 f.iso', 'wait for a `recv --connect` to fetch the file')
}

interface Source { stream: Readable, size?: number, name: string }

/** Open FILE before connecting, so a typo fails at once (exit 2) rather than after the handshake. */
async function openSource(file: string | undefined): Promise<Source> {
  if (file === undefined) return { stream: process.stdin, name: 'stdin' }
  try {
    const st = await stat(file)
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    const fh = await open(file, 'r')
    return { stream: fh.createReadStream({ highWaterMark: 256 * 1024 }), size: st.isFile() ? st.size : undefined, name: file }
  } catch (err) {
    throw ioError(err, `cannot read ${file}`)
  }
}

export async function send(args: SendArgs): Promise<void> {
  const source = await openSource(fileArg(args.file))
  const session = sessionOptions(args) // flag errors before key errors
  const receiptMs = args.receiptTimeout === undefined ? DEFAULT_RECEIPT_TIMEOUT_MS : seconds(args.receiptTimeout, '--receipt-timeout')
  const role = await resolveRole(args, 'connect')
  const log = createLog(args.quiet === true)
  let stream: SecureStream | undefined
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); stream?.destroy(); source.stream.destroy() })
  try {
    stream = await openStream(role, session, log)
    const startedAt = performance.now()
    progress = await createProgress(wantProgress(args), 'send', source.size)
    const { bytes, sha256 } = await sendAndConfirm(stream, source, progress, receiptMs, args.sha256 === true)
    log.info(summaryLine('sent', bytes, startedAt, stream.peerFingerprint ?? 'unknown', ', receipt verified'))
    if (sha256) log.info(sha256)
  } catch (err) {
    source.stream.destroy()
    throw err
  } finally {
    progress?.stop()
    release()
  }
}

/** Write everything, end our direction (SPEC 6), then read and check the receipt (SPEC 8). */
async function sendAndConfirm(stream: SecureStream, source: Source, progress: Progress, receiptMs: number, sha256: boolean): Promise<{ bytes: number, sha256: string | null }> {
  const meter = new Meter(n => progress.update(n), { sha256 })
  let receiptFailure: unknown
  const receipt = collectReceipt(stream)
  receipt.catch(err => { receiptFailure = err })
  try {
    await pipeline(source.stream, meter, stream) // ends the stream's writable side: the close record
  } catch (err) {
    stream.destroy()
    throw sendError(receiptFailure ?? err, source)
  }
  progress.stop()
  let answer: Buffer
  try {
    answer = await receiptWithin(receipt, receiptMs)
  } catch (err) {
    stream.destroy()
    throw sendError(err, source)
  }
  // SPEC 8.2: our close record is sealed (the pipeline finished), so the digest covers every record we sent.
  checkReceipt(answer, meter.bytes, stream.tagDigest('sent')!)
  return { bytes: meter.bytes, sha256: meter.sha256Line(source.name === 'stdin' ? '-' : source.name) }
}

/** Anything that cuts the connection before the receipt means the data may not have arrived: exit 5. */
function sendError(err: unknown, source: Source): unknown {
  const e = err as NodeJS.ErrnoException
  if (err instanceof SecurePipeError) {
    if (err.code === 'ERR_TRUNCATED') return noReceiptError('the connection ended before the receiver confirmed delivery', err)
    if (err.code === 'ERR_NETWORK' && !/may not have the data/.test(err.message)) return noReceiptError(err.message, err)
    if (err.code === 'ERR_TIMEOUT') return new SecurePipeError('ERR_TIMEOUT', `${err.message.replace(/[.;]\s*$/, '')}; the receiver may not have the data`, { cause: err })
    return err
  }
  if (e?.code === 'ERR_STREAM_PREMATURE_CLOSE') return noReceiptError('the connection closed before the receiver confirmed delivery', err)
  if (e?.syscall === 'read' || e?.path !== undefined) return ioError(err, `cannot read ${source.name}`)
  if (e?.code === 'ECONNRESET' || e?.code === 'EPIPE') return noReceiptError(toNetworkError(err).message, err)
  return err
}
