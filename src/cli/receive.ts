/**
 * The receiving half of one transfer, shared by `recv` and `recv --keep-open`: secure stream
 * -> meter -> output; the output is committed only after the sender's authenticated end
 * (SPEC 6), and only then does the receipt go back (SPEC 8).
 */
import { pipeline } from 'node:stream/promises'
import type { Writable } from 'node:stream'
import { createWriteStream } from 'node:fs'
import { SecurePipeError, TruncatedError } from '../index.js'
import { AtomicFile, ioError } from './atomic-file.js'
import type { SecureStream } from './endpoint.js'
import { Meter } from './meter.js'
import type { Progress } from './progress.js'
import { encodeReceipt } from './receipt.js'
import type { Log } from './report.js'

/** Where received bytes go: a FILE written atomically, or stdout. */
export interface Output {
  readonly sink: Writable
  readonly name: string
  /** End the sink when the data ends (a file: its _final fsyncs); stdout stays open. */
  readonly endSink: boolean
  /** Make the data durable and visible (rename, or flush stdout). */
  commit(): Promise<void>
  /** Drop partial data where possible (a file); synchronous. */
  abort(): void
}

export async function fileOutput(path: string, force: boolean): Promise<Output> {
  const file = await AtomicFile.create(path, { force })
  return { sink: file.sink, name: path, endSink: true, commit: () => file.commit(), abort: () => file.abort() }
}

/** A device or FIFO named as FILE (`recv /dev/null`): written in place, no rename (see isDevice). */
export function deviceOutput(path: string): Output {
  const sink = createWriteStream(path, { flags: 'w', highWaterMark: 1024 * 1024 })
  return { sink, name: path, endSink: true, commit: async () => {}, abort: () => { sink.destroy() } }
}

export function stdoutOutput(): Output {
  return {
    sink: process.stdout,
    name: 'stdout',
    endSink: false,
    // Writes to a pipe may be queued; an empty write calls back once everything before it is out.
    commit: () => new Promise<void>((resolve, reject) => process.stdout.write('', err => err ? reject(ioError(err, 'cannot write to stdout')) : resolve())),
    abort: () => {},
  }
}

export interface Received { bytes: number, digest: Buffer }

/** Receive one stream into `output` and answer with the receipt. Throws SecurePipeErrors. `sha256`: also hash the data and log its line. */
export async function receiveInto(stream: SecureStream, output: Output, progress: Progress, log: Log, sha256 = false): Promise<Received> {
  const meter = new Meter(n => progress.update(n), { sha256 })
  try {
    await pipeline(stream, meter, output.sink, { end: output.endSink })
    await output.commit()
  } catch (err) {
    output.abort()
    stream.destroy()
    throw receiveError(err, output)
  } finally {
    progress.stop()
  }
  // SPEC 8.2: the stream ended at the verified close record, so the digest covers every record the sender sealed.
  const received = { bytes: meter.bytes, digest: stream.tagDigest('received')! }
  const line = meter.sha256Line(output.name)
  if (line) log.info(line)
  await sendReceipt(stream, encodeReceipt(received.bytes, received.digest), log)
  return received
}

/** SPEC 8: the receipt, then the end of our direction. The data is already safe, so a failure here only warns. */
async function sendReceipt(stream: SecureStream, receipt: Buffer, log: Log): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (err?: unknown): void => {
      clearTimeout(timer)
      if (err) log.warn(`secure-pipe: warning: the data is complete, but the delivery receipt could not be sent (${(err as Error).message ?? err}); the sender will report a failure`)
      resolve()
    }
    const timer = setTimeout(() => done(new Error('timed out')), 10_000)
    stream.once('error', done)
    stream.end(receipt, () => done())
  })
}

function receiveError(err: unknown, output: Output): unknown {
  const outcome = output.name === 'stdout' ? 'the data written to stdout so far is incomplete' : `${output.name} was not written`
  if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new TruncatedError(`the connection closed before the sender's authenticated end of stream; ${outcome}`, { cause: err })
  }
  if (err instanceof SecurePipeError && err.code !== 'ERR_IO' && err.code !== 'ERR_USAGE') {
    return new SecurePipeError(err.code, `${err.message.replace(/[.;]\s*$/, '')}; ${outcome}`, { cause: err })
  }
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return ioError(err, 'cannot write to stdout (the reading program exited)')
  return err
}
