/**
 * issue 19 §2: the event module on its own: one JSON line per event with the common fields,
 * no control character raw in a line (JSON.stringify leaves C1 and U+2028/9 raw: we escape
 * them), progress at most once per interval, the final failure as an error event, and the
 * human output unchanged without --json.
 */
import t from 'tap'
import { createOutput, eventLine, progressEvents, EVENTS_VERSION, PROGRESS_INTERVAL_MS } from '../../../src/cli/events.js'
import { reportError, routeErrors } from '../../../src/cli/report.js'
import { AuthError } from '../../../src/index.js'
import { parseEvents } from '../../helpers/events.js'

function capture(): { lines: string[], out: ReturnType<typeof createOutput> } {
  const lines: string[] = []
  return { lines, out: createOutput({ json: true, quiet: false, command: 'test', write: l => { lines.push(l) } }) }
}

t.test('issue 19 §2: an event line escapes every control character and line separator, and parses back to the same name', async t => {
  const name = 'a\u001b[2J\nb\r\u0000c\u007f\u0085\u009b31m\u2028\u2029d"\\'
  const line = eventLine({ name })
  t.equal(line.indexOf('\n'), line.length - 1, 'exactly one newline, at the end')
  t.notMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, 'no raw control or separator')
  t.same(JSON.parse(line), { name }, 'the same string after parsing')
})

t.test('issue 19 §2: every event carries v, event, time, command and its context', async t => {
  const { lines, out } = capture()
  out.emit('connected', { peer: '127.0.0.1:1', fingerprint: 'SHA256:x' })
  out.with({ transfer: 2 }).with({ attempt: 3 }).emit('info', { message: 'hello' })
  out.log.warn('careful')
  out.log.info('note')
  out.log.listening({ address: '127.0.0.1:7', port: 7 }, 'listening on 127.0.0.1:7')
  const events = parseEvents(t, lines.join(''))
  t.match(events, [
    { v: EVENTS_VERSION, event: 'connected', command: 'test', peer: '127.0.0.1:1' },
    { event: 'info', message: 'hello', transfer: 2, attempt: 3 },
    { event: 'warning', message: 'careful' },
    { event: 'info', message: 'note' },
    { event: 'listening', address: '127.0.0.1:7', port: 7 },
  ])
  t.equal(events[0]!.transfer, undefined, 'a scope does not leak into its parent')
})

t.test('issue 19 §2: progress at most once per interval, the first at once, none after stop', async t => {
  const { lines, out } = capture()
  let clock = 0
  const p = progressEvents(out, PROGRESS_INTERVAL_MS, () => clock)
  p.plan(1000)
  for (const [at, bytes] of [[0, 1], [100, 2], [249, 3], [250, 4], [400, 5], [500, 6], [501, 7]] as const) { clock = at; p.update(bytes) }
  p.stop()
  clock = 10_000
  p.update(8)
  t.same(parseEvents(t, lines.join('')).map(e => [e.bytes, e.total]), [[1, 1000], [4, 1000], [6, 1000]])
})

t.test('issue 19 §2: under --json the final failure is an error event with code and exit status', async t => {
  const { lines } = capture()
  t.teardown(() => routeErrors(undefined))
  t.equal(reportError(new AuthError('the key was refused\nby the peer')), 3)
  t.match(parseEvents(t, lines.join('')), [{ event: 'error', code: 'ERR_AUTH', exit: 3, final: true, message: 'the key was refused; by the peer' }])
  t.equal(reportError(new Error('boom')), 1)
  t.match(parseEvents(t, lines.join('')).at(-1), { event: 'error', code: 'ERR_UNEXPECTED', exit: 1 })
})

t.test('issue 19 §2: without --json, emit prints the human line only', async t => {
  const written: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string) => { written.push(chunk); return true }) as typeof process.stderr.write
  try {
    const quiet = createOutput({ json: false, quiet: true, command: 'test' })
    quiet.emit('summary', { entries: 1, files: 1, bytes: 1, resumedBytes: 0, seconds: 1, bytesPerSecond: 1, fingerprint: 'f', outcome: 'durable' }, 'sent 1 byte')
    quiet.emit('plan', { entries: 1, files: 1, bytes: 1, resumedBytes: 0 })
    quiet.emit('listening', { address: '127.0.0.1:7', port: 7 }, 'listening on 127.0.0.1:7')
    quiet.emit('retry', { attempt: 1, retries: 1, delayMs: 1, error: { code: 'ERR_NETWORK', exit: 5, message: 'x' } }, 'attempt 1 failed')
  } finally {
    process.stderr.write = write
  }
  t.same(written, ['listening on 127.0.0.1:7\n', 'attempt 1 failed\n'], '--quiet keeps the listening line and warnings; no event has a line of its own')
})
