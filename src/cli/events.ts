/**
 * Machine-readable output (issue 19 §2): with `--json` a command writes newline-delimited JSON,
 * one event per line, each validated by docs/events.schema.json (`v` is its version), and no
 * human text at all: no progress bar, no info or warning lines, no failure line (it becomes the
 * final `error` event). Events go to stdout, except when stdout carries the data (`recv -`):
 * then to stderr. Either way they never share a stream with data.
 *
 * A command adopts it with `jsonOption(y)` in its builder and one `createOutput(...)` in its
 * handler; it then prints through `out.log` (human lines; under --json they become `info` and
 * `warning` events) and states each fact once with `out.emit(event, fields, humanLine?)`.
 *
 * Names from the wire are JSON strings, escaped by JSON.stringify; the C1 controls and the two
 * Unicode line separators, which it leaves raw, are escaped too, so no event can drive a
 * terminal or split a line.
 *
 * @example
 *   const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'pair' })
 *   out.emit('connected', { peer: '127.0.0.1:7070', fingerprint }, `paired with ${fingerprint}`)
 */
import type { Argv } from 'yargs'
import type { EntryType, Outcome } from '../index.js'
import { createLog, routeErrors, type ErrorReport, type Log } from './report.js'

/** The schema version every event carries as `v` (docs/events.schema.json). */
export const EVENTS_VERSION = 1

/** The fields of each event, after the common `v`, `event`, `time`, `command` (and context). */
export interface EventFields {
  /** The listening side is ready; `address` as HOST:PORT with the real port. */
  listening: { address: string, port: number }
  /** A peer completed the handshake: its address and key fingerprint. */
  connected: { peer: string, fingerprint: string }
  /** What the transfer will move: `bytes` to send now, `resumedBytes` the receiver already holds. */
  plan: { entries: number, files: number, bytes: number, resumedBytes: number }
  /** Content bytes present on the receiver so far (resumed ones included), of `total` (null: a stream). */
  progress: { bytes: number, total: number | null }
  /** One entry confirmed: `name` is null for a nameless stream. */
  entry: { name: string | null, type: EntryType, bytes: number, outcome: Outcome }
  /** The delivery receipt (SPEC 8.5): verified by the sender, sent by the receiver. */
  receipt: { entries: number, outcome: Outcome }
  /** The end of a transfer. `where`: the receiver's directory, FILE or stdout. */
  summary: { entries: number, files: number, bytes: number, resumedBytes: number, seconds: number, bytesPerSecond: number, fingerprint: string, outcome: Outcome, where?: string }
  /** `--sha256`: a file's SHA-256 (hex). */
  sha256: { name: string | null, sha256: string }
  /** An attempt failed and another follows after `delayMs` (`send --retry`). */
  retry: { attempt: number, retries: number, delayMs: number, error: ErrorReport }
  /** `pair --listen`: the one-time code, how long it is valid, and the command to run on the other machine. */
  code: { code: string, expiresInSeconds: number, run: string }
  /** `pair`: key confirmation succeeded on both ends; the peer's key as recorded, and each line written. */
  paired: { fingerprint: string, comment: string | null, bothWays: boolean, written: { file: string, line: string }[] }
  /** `serve`, `forward`, `connect`: one tunnelled connection ended (`error` when it did not close cleanly). */
  tunnel: { peer: string | null, from: string, to: string, bytesUp: number, bytesDown: number, seconds: number, ended: string, error?: ErrorReport }
  info: { message: string }
  warning: { message: string }
  /** A failure: `final` when the command exits with it, else one transfer of a server failed. */
  error: ErrorReport & { final: boolean }
}
export type EventName = keyof EventFields

/** Fields added to every event of a scope: a server's transfer number, a retrying sender's attempt, a tunnel's connection number. */
export interface EventContext { transfer?: number, attempt?: number, connection?: number }

export interface Output {
  readonly json: boolean
  /** Human lines; under --json `info` and `warning` events (info lines kept even with --quiet). */
  readonly log: Log
  /** Under --json one event line; otherwise `human`, when given, as an info line. */
  emit<K extends EventName>(event: K, fields: EventFields[K], human?: string): void
  /** The same output, adding `context` to every event. */
  with(context: EventContext): Output
}

export interface OutputOptions {
  json: boolean
  quiet: boolean
  command: string
  /** The command writes its data to stdout (`recv -`): events go to stderr. */
  dataOnStdout?: boolean
  /** Where event lines go (tests); default stdout or stderr as above. */
  write?: (line: string) => void
}

/** `--json` for a command's builder. */
export function jsonOption<T>(y: Argv<T>): Argv<T> {
  return y.option('json', { type: 'boolean', describe: 'print newline-delimited JSON events (docs/events.schema.json) instead of human text: on stdout, or stderr when stdout carries the data' })
}

/**
 * The output of one command run. Under --json it also takes over the final failure report
 * (report.ts `reportError`), which then becomes the `error` event with `final: true`.
 */
export function createOutput(opts: OutputOptions): Output {
  if (!opts.json) return humanOutput(createLog(opts.quiet))
  const stream = opts.dataOnStdout ? process.stderr : process.stdout
  const write = opts.write ?? ((line: string) => { stream.write(line) })
  const out = jsonOutput(opts.command, write, {})
  routeErrors(e => out.emit('error', { ...e, final: true }))
  return out
}

function humanOutput(log: Log): Output {
  const out: Output = {
    json: false,
    log,
    emit: (event, fields, human) => {
      if (human === undefined) return
      if (event === 'listening') log.listening(fields as EventFields['listening'], human)
      else if (event === 'warning' || event === 'error' || event === 'retry' || (event === 'tunnel' && (fields as EventFields['tunnel']).error)) log.warn(human)
      else log.info(human)
    },
    with: () => out,
  }
  return out
}

function jsonOutput(command: string, write: (line: string) => void, context: EventContext): Output {
  const emit = <K extends EventName>(event: K, fields: EventFields[K]): void => {
    write(eventLine({ v: EVENTS_VERSION, event, time: new Date().toISOString(), command, ...context, ...fields }))
  }
  return {
    json: true,
    log: {
      info: message => emit('info', { message }),
      warn: message => emit('warning', { message }),
      listening: where => emit('listening', where),
    },
    emit,
    with: more => jsonOutput(command, write, { ...context, ...more }),
  }
}

/**
 * One event as a line. JSON.stringify escapes C0 controls, quotes and lone surrogates; it leaves
 * DEL, the C1 controls (U+0080..U+009F, e.g. CSI) and U+2028/U+2029 raw: escape those as well.
 */
export function eventLine(event: object): string {
  return JSON.stringify(event).replace(/[\u007f-\u009f\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
}

/**
 * A progress reporter for events: at most one `progress` event per `intervalMs` (the first at
 * once), the shape of progress.ts's Progress so a command can use either.
 */
export function progressEvents(out: Output, intervalMs = PROGRESS_INTERVAL_MS, now: () => number = () => performance.now()): { update(bytes: number): void, plan(total: number): void, stop(): void } {
  let total: number | null = null
  let last = -Infinity
  let stopped = false
  return {
    plan: n => { total = n },
    update: bytes => {
      const at = now()
      if (stopped || at - last < intervalMs) return
      last = at
      out.emit('progress', { bytes, total })
    },
    stop: () => { stopped = true },
  }
}

/** Issue 19: "progress at most a few per second". */
export const PROGRESS_INTERVAL_MS = 250
