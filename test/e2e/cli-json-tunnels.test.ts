/**
 * issue 19 §2, "which commands": `pair`, `serve`, `forward` and `connect` take `--json` as
 * `send` and `recv` do: newline-delimited events, each valid against docs/events.schema.json
 * (test/helpers/events.ts validates every one with ajv), no human text at all, and for
 * `connect`, whose stdout is the tunnel's data, the events on stderr.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { makeKeys, spawnCli, tempDir, waitFor } from '../helpers/cli.js'
import { eventsNamed, listeningPort, parseEvents, stdoutOf } from '../helpers/events.js'
import { identity, okIn, startIn } from '../helpers/home.js'
import { connectTo, countingTarget, freePort } from '../helpers/tunnel.js'

t.test('pair --json: the listener prints listening, code and paired; the other side paired; nothing else', async t => {
  const dir = tempDir(t)
  const r = join(dir, 'receiver-home')
  const s = join(dir, 'sender-home')
  await Promise.all([okIn(t, r, ['init', '--bits', '2048']), okIn(t, s, ['init', '--bits', '2048'])])
  const [rid, sid] = await Promise.all([identity(t, r), identity(t, s)])
  const listener = startIn(t, r, ['pair', '--listen', '127.0.0.1:0', '--json'])
  const text = stdoutOf(listener)
  const port = await listeningPort(listener, text)
  await waitFor(() => text().includes('"event":"code"'), 'the code event')
  const code = eventsNamed(parseEvents(t, text()), 'code')[0]!
  t.match(code, { code: /^\d{1,2}-[a-z]+-[a-z]+$/, expiresInSeconds: 300, run: `secure-pipe pair 127.0.0.1:${port} ${code.code as string}` })

  const other = await startIn(t, s, ['pair', `127.0.0.1:${port}`, code.code as string, '--json']).done
  const done = await listener.done
  t.equal(other.code, 0, other.stderr)
  t.equal(done.code, 0, done.stderr)
  t.equal(other.stderr, '', 'the connecting side: no human text on stderr')
  t.equal(done.stderr, '', 'the listener: no human text on stderr')

  const mine = parseEvents(t, other.stdout)
  t.same(mine.map(e => e.event), ['paired'], 'the connecting side: one event')
  t.match(mine[0], { command: 'pair', fingerprint: rid.fp, bothWays: false, written: [{ file: join(s, 'known_peers'), line: `127.0.0.1 ${rid.line}` }] })
  const theirs = parseEvents(t, done.stdout)
  t.same(theirs.map(e => e.event), ['listening', 'code', 'paired'], 'the listener: listening, code, paired')
  const paired = theirs[2]!
  t.match(paired, { fingerprint: sid.fp, written: [{ file: join(r, 'authorized_keys'), line: sid.line }] })
  t.ok(readFileSync(join(r, 'authorized_keys'), 'utf8').split('\n').includes(sid.line), 'the line the event names is the line in the file')
})

t.test('serve --json and connect --json: connected, then one tunnel event with the bytes each way; connect keeps stdout for the data', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, sock => { sock.pipe(sock) })
  const serve = spawnCli(t, ['serve', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${target.port}`, '--key', keys.server, '--authorized', keys.clientPK, '--json'], { timeoutMs: 110_000 })
  const serveText = stdoutOf(serve)
  const port = await listeningPort(serve, serveText)

  const client = spawnCli(t, [...connectTo(keys, port), '--json'], { stdin: 'pipe' })
  client.child.stdin!.end('echo through the tunnel')
  const c = await client.done
  t.equal(c.code, 0, c.stderr)
  t.equal(c.stdout.toString(), 'echo through the tunnel', 'stdout carries exactly the data')
  const mine = parseEvents(t, c.stderr)
  t.same(mine.map(e => e.event), ['connected', 'tunnel'], 'connect: connected, tunnel (on stderr)')
  t.match(mine[1], { command: 'connect', from: 'stdin', to: `127.0.0.1:${port}`, bytesUp: 23, bytesDown: 23, ended: 'closed', peer: mine[0]!.fingerprint })
  t.notOk('error' in mine[1]!, 'a clean close carries no error')

  await waitFor(() => serveText().includes('"event":"tunnel"'), 'the server\'s tunnel event')
  const all = parseEvents(t, serveText())
  t.match(eventsNamed(all, 'info'), [{ message: `secure-pipe: tunnels to 127.0.0.1:${target.port}` }], 'the human line "tunnels to" as an info event')
  const events = all.filter(e => e.event !== 'info')
  t.same(events.map(e => e.event), ['listening', 'connected', 'tunnel'])
  t.ok(events.slice(1).every(e => e.connection === 1), 'the connection\'s events carry connection 1')
  t.match(events[2], { command: 'serve', from: /^127\.0\.0\.1:\d+$/, to: `127.0.0.1:${target.port}`, bytesUp: 23, bytesDown: 23, ended: 'closed', peer: /^SHA256:/ })
  t.equal(serve.stderr(), '', 'serve: no human text on stderr')
})

t.test('serve --json: a target that refuses is a tunnel event with its error; connect --json ends with the final error', async t => {
  const keys = makeKeys(tempDir(t))
  const closed = await freePort()
  const serve = spawnCli(t, ['serve', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${closed}`, '--key', keys.server, '--authorized', keys.clientPK, '--json'], { timeoutMs: 110_000 })
  const serveText = stdoutOf(serve)
  const port = await listeningPort(serve, serveText)
  const client = spawnCli(t, [...connectTo(keys, port), '--json'], { stdin: 'pipe' })
  client.child.stdin!.end('nobody there')
  const c = await client.done
  t.equal(c.code, 5, 'ERR_NETWORK exits 5')
  t.equal(c.stdout.length, 0, 'nothing on stdout')
  const last = parseEvents(t, c.stderr).at(-1)!
  t.match(last, { event: 'error', final: true, code: 'ERR_NETWORK', exit: 5, message: new RegExp(`127\\.0\\.0\\.1:${closed}`) })

  await waitFor(() => serveText().includes('"event":"tunnel"'), 'the server\'s tunnel event')
  const tunnel = eventsNamed(parseEvents(t, serveText()), 'tunnel')[0]!
  t.match(tunnel, { ended: 'target failed', bytesUp: 0, bytesDown: 0, error: { code: 'ERR_NETWORK', exit: 5 } })
})

t.test('forward --json: listening, then per local connection connected and tunnel, numbered; a failed session is a non-final error', async t => {
  const keys = makeKeys(tempDir(t))
  const target = await countingTarget(t, sock => { sock.pipe(sock) })
  const serve = spawnCli(t, ['serve', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${target.port}`, '--key', keys.server, '--authorized', keys.clientPK, '--json'], { timeoutMs: 110_000 })
  const servePort = await listeningPort(serve, stdoutOf(serve))
  const forward = spawnCli(t, ['forward', '--local', '127.0.0.1:0', '--connect', `127.0.0.1:${servePort}`, '--key', keys.client, '--server-key', keys.serverPK, '--json'], { timeoutMs: 110_000 })
  const text = stdoutOf(forward)
  const local = await listeningPort(forward, text)

  for (const word of ['one', 'two']) {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tcpConnect(local, '127.0.0.1', () => s.end(word))
      let got = ''
      s.on('data', (c: Buffer) => { got += c.toString() }).on('end', () => resolve(got)).on('error', reject)
    })
    t.equal(answer, word, `local connection "${word}" echoed`)
  }
  await waitFor(() => eventsNamed(parseEvents(t, text()), 'tunnel').length === 2, 'two tunnel events')
  const events = parseEvents(t, text())
  t.equal(events[0]!.event, 'listening')
  for (const n of [1, 2]) {
    const mine = events.filter(e => e.connection === n).map(e => e.event)
    t.same(mine, ['connected', 'tunnel'], `connection ${n}: connected, then tunnel`)
  }
  t.match(eventsNamed(events, 'tunnel')[0], { command: 'forward', from: /^127\.0\.0\.1:\d+$/, to: `127.0.0.1:${servePort}`, bytesUp: 3, bytesDown: 3, ended: 'closed' })

  serve.child.kill('SIGKILL')
  await serve.done
  await new Promise<void>(resolve => {
    const s = tcpConnect(local, '127.0.0.1')
    s.on('close', () => resolve()).on('error', () => {})
  })
  await waitFor(() => text().includes('"event":"error"'), 'the error event of the failed session')
  const failed = eventsNamed(parseEvents(t, text()), 'error')[0]!
  t.match(failed, { final: false, code: 'ERR_NETWORK', connection: 3, message: new RegExp(`127\\.0\\.0\\.1:${servePort}`) })
  t.equal(forward.child.exitCode, null, 'forward goes on after one failed session')
  t.equal(forward.stderr(), '', 'forward: no human text on stderr')
})

t.test('connect --json: a command line that does not parse is an error event on stderr (stdout is for data)', async t => {
  const r = await spawnCli(t, ['connect', '127.0.0.1:1', '--json', '--no-such-flag']).done
  t.equal(r.code, 2)
  t.equal(r.stdout.length, 0, 'nothing on stdout')
  t.match(parseEvents(t, r.stderr).at(-1), { event: 'error', final: true, code: 'ERR_USAGE', command: 'connect' })
})
