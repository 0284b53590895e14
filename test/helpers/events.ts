/**
 * `--json` output in tests (issue 19 §2): split a command's event stream into lines, parse each,
 * and validate it against docs/events.schema.json with ajv. Every e2e test that runs a command
 * with --json reads its events through `parseEvents`, so every event they emit is validated.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { ROOT, waitFor, type CliProcess } from './cli.js'

export const SCHEMA_PATH = join(ROOT, 'docs', 'events.schema.json')

/** One parsed event: the common fields, and the rest by name. */
export interface JsonEvent { v: number, event: string, time: string, command: string, transfer?: number, attempt?: number, [field: string]: unknown }

const ajv = new Ajv2020({ strict: true, allErrors: true })
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object)

export interface Asserts { fail(message: string): void, pass(message: string): void }

/** The events in `text` (a whole stream): each line must be a JSON object the schema accepts. */
export function parseEvents(t: Asserts, text: string | Buffer): JsonEvent[] {
  const s = text.toString()
  if (s.length > 0 && !s.endsWith('\n')) t.fail(`the event stream does not end with a newline: ${JSON.stringify(s.slice(-80))}`)
  const events: JsonEvent[] = []
  for (const line of s.split('\n').filter(l => l !== '')) {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      t.fail(`not a JSON line: ${JSON.stringify(line)}`)
      continue
    }
    if (!validate(value)) t.fail(`event does not match docs/events.schema.json: ${line}\n${ajv.errorsText(validate.errors)}`)
    events.push(value as JsonEvent)
  }
  t.pass(`${events.length} events, each valid against docs/events.schema.json`)
  return events
}

/** The events named `name`. */
export function eventsNamed(events: readonly JsonEvent[], name: string): JsonEvent[] {
  return events.filter(e => e.event === name)
}

/** Everything a child has written to stdout so far (collect from spawn time on). */
export function stdoutOf(p: CliProcess): () => string {
  let text = ''
  p.child.stdout!.on('data', (c: Buffer) => { text += c.toString() })
  return () => text
}

/** Wait for the `listening` event in `text()` and return its port. */
export async function listeningPort(p: CliProcess, text: () => string): Promise<number> {
  let port = 0
  await waitFor(() => {
    const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(text())
    if (m) port = Number(m[1])
    return port > 0 || p.child.exitCode !== null
  }, 'the listening event')
  if (port === 0) throw new Error(`the command exited before listening: ${p.stderr()}`)
  return port
}
