/**
 * How the CLI reports failure (issue 3, SPEC 9): one line `secure-pipe: <message> (<CODE>)` on
 * stderr and an exit code from the single EXIT_CODES table. Anything that is not a
 * SecurePipeError is a bug or an unforeseen OS condition: exit 1.
 *
 * @example process.exitCode = reportError(err)
 */
import { EXIT_CODES, SecurePipeError } from '../index.js'
import { visible } from './visible.js'

/** Exit codes that are not in EXIT_CODES (README "Exit codes"). */
export const EXIT_OK = 0
export const EXIT_UNEXPECTED = 1
/** 128 + signal number, the shell convention. */
export const EXIT_SIGNAL: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Collapse a message to one line: the contract is one line per failure. Other control
 * characters are escaped (visible.ts): a message can carry a name or reason from a peer, and
 * must not drive the terminal (escape sequences).
 */
export function oneLine(text: string): string {
  return visible(text.replace(/\s*\n\s*/g, '; ').trim())
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof SecurePipeError) return EXIT_CODES[err.code] ?? EXIT_UNEXPECTED
  return EXIT_UNEXPECTED
}

/** The line printed for `err`, without the trailing newline. */
export function formatError(err: unknown): string {
  if (err instanceof SecurePipeError) return `secure-pipe: ${oneLine(err.message)} (${err.code})`
  const e = err as NodeJS.ErrnoException | undefined
  const what = e?.message ?? String(err)
  const code = typeof e?.code === 'string' ? e.code : 'ERR_UNEXPECTED'
  return `secure-pipe: unexpected error: ${oneLine(what)}; set SECURE_PIPE_DEBUG=1 for a stack trace (${code})`
}

/** A failure as data (issue 19, `--json`): the code, the exit status and the one-line message. */
export interface ErrorReport { code: string, exit: number, message: string }

export function errorReport(err: unknown): ErrorReport {
  const line = formatError(err).replace(/^secure-pipe: /, '')
  const m = / \((\w+)\)$/.exec(line)
  return { code: m?.[1] ?? 'ERR_UNEXPECTED', exit: exitCodeFor(err), message: m ? line.slice(0, m.index) : line }
}

/** Where the final failure goes instead of the stderr line (events.ts under --json), if set. */
let errorSink: ((e: ErrorReport) => void) | undefined

/** Send the final failure report (`reportError`, `reportInterrupt`) to `sink` rather than stderr (undefined: stderr again). */
export function routeErrors(sink: ((e: ErrorReport) => void) | undefined): void {
  errorSink = sink
}

/** Whether a command already routed the final failure report (`routeErrors`). */
export function errorsRouted(): boolean {
  return errorSink !== undefined
}

/** An interrupt (signals.ts): the stderr line, or the sink's event with the signal as its code. */
export function reportInterrupt(signal: 'SIGINT' | 'SIGTERM', line: string): void {
  if (errorSink) errorSink({ code: signal, exit: EXIT_SIGNAL[signal], message: line.replace(/^secure-pipe: /, '').replace(/ \(\w+\)$/, '') })
  else process.stderr.write(line + '\n')
}

/** Print the failure line (and a stack with SECURE_PIPE_DEBUG=1); return the exit code. */
export function reportError(err: unknown): number {
  if (errorSink) { errorSink(errorReport(err)); return exitCodeFor(err) }
  process.stderr.write(formatError(err) + '\n')
  if (process.env.SECURE_PIPE_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack.split('\n').map(visible).join('\n') + '\n')
  return exitCodeFor(err)
}

/** Informational lines (summaries) and warnings; `quiet` silences only the former. */
export interface Log {
  info(line: string): void
  warn(line: string): void
  /** The `listening on` line (`where`: HOST:PORT with the real port): printed even with --quiet, it is how scripts learn the port. */
  listening(where: { address: string, port: number }, line: string): void
}

export function createLog(quiet: boolean): Log {
  return {
    info: line => { if (!quiet) process.stderr.write(visible(line) + '\n') },
    warn: line => { process.stderr.write(visible(line) + '\n') },
    listening: (_where, line) => { process.stderr.write(visible(line) + '\n') },
  }
}
