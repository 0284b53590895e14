/**
 * `secure-pipe recv [FILE|-]` (issue 3): receive one byte stream into FILE (atomically) or
 * stdout, answer with a delivery receipt (SPEC 8), print a summary and exit.
 * Listens by default; `--connect` makes it the handshake client instead.
 */
import type { Argv } from 'yargs'
import { checkDestination, isDevice } from './atomic-file.js'
import { openStream, type SecureStream } from './endpoint.js'
import { fileArg, resolveRole, sessionOptions, transferOptions, wantProgress, type TransferArgs } from './options.js'
import { createProgress, summaryLine, type Progress } from './progress.js'
import { deviceOutput, fileOutput, receiveInto, stdoutOutput, type Output } from './receive.js'
import { createLog } from './report.js'
import { onInterrupt } from './signals.js'
import { serve, type ServeArgs } from './serve.js'
import { refuseTerminalOutput } from './terminal.js'

export interface RecvArgs extends TransferArgs, ServeArgs {
  force?: boolean
}

export function recvBuilder<T>(y: Argv<T>): Argv<T> {
  return transferOptions(y)
    .option('force', { alias: 'f', type: 'boolean', describe: 'replace an existing FILE (only after a complete, authenticated transfer)' })
    .option('keep-open', { type: 'boolean', describe: 'serve transfers until stopped, each into --output-dir under a unique name (listening only)' })
    .option('output-dir', { alias: 'o', type: 'string', describe: 'directory for --keep-open transfers (also usable for a single one)' })
    .implies('keep-open', 'output-dir')
    .example('$0 recv --listen 0.0.0.0:7070 out.bin', 'accept a peer in authorized_keys (see `secure-pipe authorize`), write out.bin')
    .example('$0 recv --listen 0.0.0.0:7070 > data.tar', 'listen on all interfaces, write to stdout')
    .example('$0 recv --listen 127.0.0.1:0 --quiet out.bin', 'pick a free port; read it from the "listening on" line')
    .example('$0 recv --connect host:7070 out.bin', 'fetch from a listening `send --listen` (the key pinned for host)')
    .example('$0 recv --keep-open --output-dir inbox/', 'receive transfers until Ctrl-C, one file each')
}

export async function recv(args: RecvArgs): Promise<void> {
  if (args.keepOpen || args.outputDir !== undefined) return serve(args)
  const file = fileArg(args.file)
  refuseTerminalOutput(args)
  if (file !== undefined) await checkDestination(file, args.force === true)
  const session = sessionOptions(args) // flag errors before key errors
  const role = await resolveRole(args, 'listen')
  const log = createLog(args.quiet === true)
  let stream: SecureStream | undefined
  let output: Output | undefined
  let progress: Progress | undefined
  const release = onInterrupt(() => { progress?.stop(); output?.abort(); stream?.destroy() })
  try {
    stream = await openStream(role, session, log)
    const startedAt = performance.now()
    output = file === undefined ? stdoutOutput() : await isDevice(file) ? deviceOutput(file) : await fileOutput(file, args.force === true)
    progress = await createProgress(wantProgress(args), 'recv')
    const { bytes } = await receiveInto(stream, output, progress, log, args.sha256 === true)
    log.info(summaryLine('received', bytes, startedAt, stream.peerFingerprint ?? 'unknown', ` into ${output.name}`))
  } catch (err) {
    output?.abort()
    stream?.destroy() // no receipt: the sender reports that we may not have the data
    throw err
  } finally {
    release()
  }
}
