/**
 * issue 10 messages at the network edge, through the real CLI (exit code and text): a wrong pin
 * names the file it came from, a refused client is told what to run, network errors name the
 * address, a localhost listener says what it bound (cli-usage.test.ts: usage and terminal messages).
 */
import t from 'tap'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, runCli, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { runIn } from '../helpers/home.js'

t.test('issue 10: a wrong pin names the file actually pinned (flag or home), exit 3 ERR_AUTH', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  t.equal((await runIn(t, home, ['pin', '127.0.0.1', k.otherPK])).code, 0)
  for (const pinArgs of [['--server-key', k.otherPK], []]) {
    const recv = spawnCli(t, ['recv', ...listenArgs(k), join(dir, `out${pinArgs.length}`)])
    const port = await waitForListening(recv)
    const r = await runIn(t, home, ['send', '--connect', `127.0.0.1:${port}`, '--key', k.client, ...pinArgs, '-'], { cwd: dir }) // cwd: no old keys/ to fall back on
    t.equal(r.code, 3, r.stderr)
    const where = pinArgs.length ? k.otherPK : `${join(home, 'known_peers')} (pin for 127.0.0.1)`
    t.match(r.stderr, `the server at 127.0.0.1:${port} could not prove it holds the key pinned in ${where}`)
    t.notMatch(r.stderr, /serverPK\.pem/, 'no file is named that was not pinned')
    t.match(r.stderr, /\(ERR_AUTH\)\n$/)
    recv.child.kill('SIGTERM')
    await recv.done
  }
})

t.test('issue 10: a client the listener does not know is told its fingerprint and what to run; the listener logs the refusal', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const recv = spawnCli(t, ['recv', ...listenArgs(k), join(dir, 'out')])
  const port = await waitForListening(recv)
  const r = await runCli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', k.other, '--server-key', k.serverPK, '-'])
  t.equal(r.code, 3, r.stderr)
  t.match(r.stderr, new RegExp(`the server at 127\\.0\\.0\\.1:${port} does not accept this machine's key SHA256:\\S+: on that machine run \`secure-pipe authorize\``))
  recv.child.kill('SIGTERM')
  const log = await recv.done
  const m = /handshake from 127\.0\.0\.1:\d+ failed: the client presented a key that is not authorized \((SHA256:\S+)\).*; the client's key is (SHA256:\S+); to allow it: secure-pipe authorize ssh-rsa \S+ \(ERR_AUTH\)/.exec(log.stderr)
  t.ok(m, log.stderr)
  t.equal(m?.[1], m?.[2], 'one fingerprint form, the one ssh-keygen -l prints')
  t.match(r.stderr, m?.[1] ?? 'no match', 'the client was told the same fingerprint')
})

t.test('issue 10: network errors name the address (connect refused, listen in use); localhost says what it bound', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const blocker = createServer()
  blocker.listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  const port = (blocker.address() as { port: number }).port
  t.teardown(() => { blocker.close() })
  const inUse = await runCli(t, ['recv', ...listenArgs(k, port), join(dir, 'x')])
  t.equal(inUse.code, 5)
  t.match(inUse.stderr, `cannot listen on 127.0.0.1:${port}: the address is already in use`)
  blocker.close()
  await once(blocker, 'close')
  const refused = await runCli(t, ['send', ...connectArgs(k, port), '-'])
  t.equal(refused.code, 5)
  t.match(refused.stderr, `connecting to 127.0.0.1:${port}: connection refused`)
  t.match(refused.stderr, /\(ERR_NETWORK\)\n$/)
  const local = spawnCli(t, ['recv', '--listen', 'localhost:0', '--key', k.server, '--authorized', k.clientPK, join(dir, 'y')])
  await waitForListening(local)
  t.match(local.stderr(), /^listening on localhost:\d+ \(bound to (127\.0\.0\.1|::1)\)\n/)
  local.child.kill('SIGTERM')
  await local.done
})
