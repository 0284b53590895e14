/**
 * `recv --output-dir DIR [--keep-open]` (issues 3 and 5): each transfer goes atomically into
 * DIR under a unique name. With --keep-open the listener serves transfers, concurrently, until
 * SIGINT/SIGTERM; a failed transfer or handshake is logged as one line and the server goes on.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError } from '../index.js'
import { ioError } from './atomic-file.js'
import { listen, openStream, type SecureStream } from './endpoint.js'
import { fileArg, resolveRole, sessionOptions, wantProgress, type Role, type TransferArgs } from './options.js'
import { createProgress, summaryLine } from './progress.js'
import { fileOutput, receiveInto, type Output } from './receive.js'
import { createLog, formatError, type Log } from './report.js'
import { onInterrupt } from './signals.js'

export interface ServeArgs {
  keepOpen?: boolean
  outputDir?: string
}

/** A fresh name in `dir`; the no-clobber rename in AtomicFile makes a collision an error, never an overwrite. */
function uniqueName(dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  return join(dir, `transfer-${stamp}-${randomBytes(4).toString('hex')}`)
}

export async function serve(args: TransferArgs & ServeArgs): Promise<void> {
  if (fileArg(args.file) !== undefined) throw new UsageError('give either FILE or --output-dir, not both')
  const dir = args.outputDir ?? ''
  if (dir === '') throw new UsageError('--output-dir needs a directory')
  const session = sessionOptions(args) // flag errors before key errors
  const role = await resolveRole(args, 'listen')
  if (args.keepOpen && role.mode !== 'listen') throw new UsageError('--keep-open serves transfers as the listening side; drop --connect')
  await mkdir(dir, { recursive: true }).catch(err => { throw ioError(err, `cannot create --output-dir ${dir}`) })
  const log = createLog(args.quiet === true)
  const active = new Set<{ stream: SecureStream, output?: Output }>()
  const release = onInterrupt(() => { for (const t of active) { t.output?.abort(); t.stream.destroy() } })
  if (!args.keepOpen) {
    try {
      await receiveOne(await openStream(role, session, log), dir, active, log, { progress: wantProgress(args), sha256: args.sha256 === true })
    } finally {
      release()
    }
    return
  }
  await serveForever(role, session, dir, active, log, args.sha256 === true)
}

/** Issue 5: a long-running server drops connections idle for this long unless --idle-timeout says otherwise. */
export const SERVE_IDLE_TIMEOUT_MS = 60_000

async function serveForever(role: Role, session: ReturnType<typeof sessionOptions>, dir: string, active: Set<{ stream: SecureStream }>, log: Log, sha256: boolean): Promise<never> {
  if (role.mode !== 'listen') throw new UsageError('--keep-open needs the listening side')
  const opts = { idleTimeoutMs: SERVE_IDLE_TIMEOUT_MS, ...session }
  await listen(role, opts, log, stream => {
    // Concurrent transfers: no progress bar (they would overwrite each other); one summary line each.
    receiveOne(stream, dir, active, log, { progress: false, sha256 }).catch(err => log.warn(formatError(err).replace(/^secure-pipe: /, `secure-pipe: transfer from ${stream.remoteAddress} failed: `)))
  })
  return new Promise<never>(() => {}) // until a signal ends the process (exit 130/143)
}

async function receiveOne(stream: SecureStream, dir: string, active: Set<{ stream: SecureStream, output?: Output }>, log: Log, opts: { progress: boolean, sha256: boolean }): Promise<void> {
  const entry: { stream: SecureStream, output?: Output } = { stream }
  active.add(entry)
  try {
    const startedAt = performance.now()
    entry.output = await fileOutput(uniqueName(dir), false)
    const { bytes } = await receiveInto(stream, entry.output, await createProgress(opts.progress, 'recv'), log, opts.sha256)
    log.info(summaryLine('received', bytes, startedAt, stream.peerFingerprint ?? 'unknown', ` into ${entry.output.name}`))
  } catch (err) {
    stream.destroy()
    throw err
  } finally {
    active.delete(entry)
  }
}
