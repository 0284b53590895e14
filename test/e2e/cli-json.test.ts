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
import { connectArgs, listenArgs, makeKeys, sha256, spawnCli, tempDir, waitFor, type CliProcess } from '../helpers/cli.js'
import { eventsNamed, parseEvents, type JsonEvent } from '../helpers/events.js'

/** A name with ESC (a colour sequence), a newline and a C1 CSI (U+009B): it must never reach a terminal raw. */
const HOSTILE = 'evil\u001b[31m\nline\u009b2J.txt'

/** Wait for the listening event on stdout and return its port. */
async function listeningPort(p: CliProcess, out: () => string): Promise<number> {
  let port = 0
  await waitFor(() => {
    const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(out())
    if (m) port = Number(m[1])
    return port > 0 || p.child.exitCode !== null
  }, 'the listening event')
  if (port === 0) throw new Error(`recv exited before listening: ${p.stderr()}`)
  return port
}

function stdoutOf(p: CliProcess): () => string {
  let text = ''
  p.child.stdout!.on('data', (c: Buffer) => { text += c.toString() })
  return () => text
}

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
  let port = 0
  await waitFor(() => { const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(recv.stderr()); if (m) port = Number(m[1]); return port > 0 }, 'the listening event on stderr')
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

t.test('issue 19 §2: a failure is the final error event, with code and exit status, and no stderr line', async t => {
  const keys = makeKeys(tempDir(t))
  const file = join(tempDir(t), 'f.bin')
  writeFileSync(file, 'x')
  const refused = await spawnCli(t, ['send', ...connectArgs(keys, 1), '--json', file]).done
  t.equal(refused.code, 5)
  t.equal(refused.stderr, '')
  const last = parseEvents(t, refused.stdout).at(-1)!
  t.match(last, { event: 'error', code: 'ERR_NETWORK', exit: 5, final: true, message: /127\.0\.0\.1:1/ })

  const usage = await spawnCli(t, ['send', ...connectArgs(keys, 1), '--json', '--retry', '1.5', file]).done
  t.equal(usage.code, 2)
  t.equal(usage.stderr, '')
  t.match(parseEvents(t, usage.stdout), [{ event: 'error', code: 'ERR_USAGE', exit: 2, final: true, message: /--retry/ }])

  // Found by the parser, before any handler runs: still an event, on the command's stream.
  const unknown = await spawnCli(t, ['send', '--json', '--bogus', file]).done
  t.equal(unknown.code, 2)
  t.equal(unknown.stderr, '')
  t.match(parseEvents(t, unknown.stdout), [{ event: 'error', command: 'send', code: 'ERR_USAGE', exit: 2, final: true, message: /unknown option --bogus/ }])
  const toStdout = await spawnCli(t, ['recv', '--json', '-', '--bogus']).done
  t.equal(toStdout.code, 2)
  t.equal(toStdout.stdout.length, 0, 'recv -: nothing on stdout, the data stream')
  t.match(parseEvents(t, toStdout.stderr), [{ event: 'error', command: 'recv', code: 'ERR_USAGE', exit: 2 }])

  // The receiver refuses: recv FILE exists. The sender's error event carries the receiver's code.
  const existing = join(tempDir(t), 'exists.bin')
  writeFileSync(existing, 'already here')
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--json', '--force', existing])
  const port = await listeningPort(recv, stdoutOf(recv))
  writeFileSync(existing + '.2', 'x')
  const two = await spawnCli(t, ['send', ...connectArgs(keys, port), '--json', file, existing + '.2']).done
  t.equal(two.code, 2, 'recv FILE refuses two entries')
  t.match(parseEvents(t, two.stdout).at(-1), { event: 'error', code: 'ERR_USAGE', exit: 2, final: true })
  const r = await recv.done
  t.match(parseEvents(t, r.stdout).at(-1), { event: 'error', final: true, exit: 2 })
})

t.test('issue 19 §2: recv --keep-open --json numbers its transfers; failures are events; SIGTERM is the final error', async t => {
  const keys = makeKeys(tempDir(t))
  const inbox = join(tempDir(t), 'inbox')
  const server = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', '--json', '--output-dir', inbox])
  const out = stdoutOf(server)
  const port = await listeningPort(server, out)
  const payloads = [randomBytes(300_000), randomBytes(1000)]
  for (const data of payloads) {
    const s = spawnCli(t, ['send', ...connectArgs(keys, port), '--json', '-'], { stdin: 'pipe' })
    s.child.stdin!.end(data)
    t.equal((await s.done).code, 0)
  }
  const stranger = await spawnCli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', keys.other, '--server-key', keys.serverPK, '--json', '-'], { stdin: 'pipe' }).done
  t.equal(stranger.code, 3)
  t.match(parseEvents(t, stranger.stdout).at(-1), { event: 'error', code: 'ERR_AUTH', exit: 3, final: true })
  await waitFor(() => /"event":"warning"/.test(out()), 'the failed handshake as a warning event')
  server.child.kill('SIGTERM')
  const end = await server.done
  t.equal(end.code, 143)
  t.equal(end.stderr, '')
  const events: JsonEvent[] = parseEvents(t, end.stdout)
  t.same(eventsNamed(events, 'summary').map(e => [e.transfer, e.bytes]), [[1, payloads[0]!.length], [2, payloads[1]!.length]], 'one summary per transfer, numbered')
  t.ok(events.filter(e => e.event !== 'listening' && e.event !== 'warning' && e.event !== 'error').every(e => e.transfer === 1 || e.transfer === 2), 'every transfer event carries its number')
  t.match(eventsNamed(events, 'warning')[0], { message: /handshake from 127\.0\.0\.1:\d+ failed: .*ERR_AUTH/ })
  t.match(events.at(-1), { event: 'error', code: 'SIGTERM', exit: 143, final: true })
})
