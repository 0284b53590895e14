/**
 * issue 19 §2: `send` and `recv --json` write newline-delimited JSON events, each valid against
 * docs/events.schema.json (test/helpers/events.ts validates every one with ajv), on stdout, or
 * on stderr when stdout carries the data; no human text at all; names from the wire only as
 * escaped JSON strings; a failure as the final `error` event with its code and exit status.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, sha256, spawnCli, tempDir } from '../helpers/cli.js'
import { eventsNamed, listeningPort, parseEvents, stdoutOf } from '../helpers/events.js'

/** A name with ESC (a colour sequence), a newline and a C1 CSI (U+009B): it must never reach a terminal raw. */
const HOSTILE = 'evil\u001b[31m\nline\u009b2J.txt'

t.test('issue 19 §2: a tree by name: both ends print valid events on stdout and nothing else', async t => {
  const keys = makeKeys(tempDir(t))
  const src = join(tempDir(t), 'tree')
  mkdirSync(join(src, 'sub'), { recursive: true })
  const big = randomBytes(3 * 1024 * 1024)
  writeFileSync(join(src, 'big.bin'), big)
  writeFileSync(join(src, 'sub', HOSTILE), 'hostile name\n')
  const inbox = tempDir(t)

  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--json', inbox])
  const port = await listeningPort(recv, stdoutOf(recv))
  const send = await spawnCli(t, ['send', ...connectArgs(keys, port), '--json', '--sha256', src]).done
  const got = await recv.done
  t.equal(send.code, 0, send.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(send.stderr, '', 'send: no human text on stderr')
  t.equal(got.stderr, '', 'recv: no human text on stderr')
  t.same(readFileSync(join(inbox, 'tree', 'big.bin')), big)

  for (const [who, raw] of [['send', send.stdout], ['recv', got.stdout]] as const) {
    t.notOk(raw.includes(0x1b), `${who}: no raw ESC in the output`)
    t.notOk(raw.toString('latin1').includes('\u00c2\u009b'), `${who}: no raw C1 CSI in the output`)
    const events = parseEvents(t, raw)
    t.ok(events.every(e => e.command === who && e.v === 1), `${who}: every event names the command and version 1`)
    const names = events.map(e => e.event)
    t.ok(names.indexOf('connected') < names.indexOf('plan') && names.indexOf('plan') < names.indexOf('receipt') && names.indexOf('receipt') < names.indexOf('summary'), `${who}: connected, plan, receipt, summary in order: ${names.join(' ')}`)
    t.equal(names.at(-1), 'summary', `${who}: the summary is last`)
    const connected = eventsNamed(events, 'connected')[0]!
    t.match(connected, { peer: /^127\.0\.0\.1:\d+$/, fingerprint: /^SHA256:/ })
    t.match(eventsNamed(events, 'plan')[0], { entries: 4, files: 2, bytes: big.length + 13, resumedBytes: 0 })
    const entries = eventsNamed(events, 'entry')
    t.same(entries.map(e => e.name).sort(), ['tree', 'tree/big.bin', 'tree/sub', `tree/sub/${HOSTILE}`].sort(), `${who}: names round-trip exactly through JSON`)
    t.ok(entries.every(e => e.outcome === 'durable'))
    t.match(eventsNamed(events, 'receipt')[0], { entries: 4, outcome: 'durable' })
    t.match(eventsNamed(events, 'summary')[0], { entries: 4, files: 2, bytes: big.length + 13, resumedBytes: 0, outcome: 'durable', fingerprint: connected.fingerprint })
    const progress = eventsNamed(events, 'progress')
    t.ok(progress.length >= 1, `${who}: at least one progress event`)
    t.ok(progress.every(p => p.total === big.length + 13 && (p.bytes as number) <= big.length + 13))
    t.same(eventsNamed(events, 'sha256').find(e => e.name === 'tree/big.bin')?.sha256 ?? sha256(big), sha256(big))
  }
  t.same(eventsNamed(parseEvents(t, send.stdout), 'sha256').find(e => e.name === 'tree/big.bin')?.sha256, sha256(big), 'send --sha256 as an event')
  t.match(eventsNamed(parseEvents(t, got.stdout), 'summary')[0], { where: inbox })
})

t.test('issue 19 §2: recv - writes the data to stdout and its events to stderr', async t => {
  const keys = makeKeys(tempDir(t))
  const data = randomBytes(200_000)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--json', '-'])
  const port = await listeningPort(recv, () => recv.stderr())
  const send = spawnCli(t, ['send', ...connectArgs(keys, port), '--json', '-'], { stdin: 'pipe' })
  send.child.stdin!.end(data)
  const [s, r] = await Promise.all([send.done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, 'recv - exits 0')
  t.same(r.stdout, data, 'stdout carries exactly the data')
  const events = parseEvents(t, r.stderr)
  t.same(eventsNamed(events, 'entry').map(e => [e.name, e.type, e.bytes, e.outcome]), [[null, 'stream', data.length, 'delivered']])
  t.match(eventsNamed(events, 'summary')[0], { bytes: data.length, outcome: 'delivered', where: 'stdout' })
  t.match(eventsNamed(parseEvents(t, s.stdout), 'summary')[0], { bytes: data.length, outcome: 'delivered' })
})
