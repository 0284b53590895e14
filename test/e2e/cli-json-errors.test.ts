/**
 * issue 19 §2, failures and servers: under --json a failure is the final `error` event with its
 * code and exit status (also one the parser finds), `recv --keep-open` numbers its transfers,
 * and a signal is the final event. Every event is validated against docs/events.schema.json.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitFor } from '../helpers/cli.js'
import { eventsNamed, listeningPort, parseEvents, stdoutOf, type JsonEvent } from '../helpers/events.js'

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
