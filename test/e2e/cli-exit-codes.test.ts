/**
 * issue 3 / SPEC 9: each exit code produced for real by the CLI: 2 usage and files,
 * 3 authentication (SPEC 3), 4 integrity (SPEC 5.4), 5 network.
 */
import t from 'tap'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, spawnCli, tamperProxy, tempDir, waitFor, waitForListening, writeRandomFile } from '../helpers/cli.js'

const dir = tempDir(t)
const keys = makeKeys(dir)
const oneLineError = (code: string): RegExp => new RegExp(`^secure-pipe: [^\\n]+ \\(${code}\\)\\n$`)

/** A port with nothing listening: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as { port: number }
  await new Promise(resolve => s.close(resolve))
  return port
}

t.test('SPEC 3: a wrong pinned server key is exit 3 (ERR_AUTH); the receiver keeps waiting', async t => {
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), join(dir, 'never.out')])
  const port = await waitForListening(recv)
  const s = await spawnCli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', keys.client, '--server-key', keys.otherPK, '-'], { stdin: 'pipe' }).done
  t.equal(s.code, 3, s.stderr)
  t.match(s.stderr, oneLineError('ERR_AUTH'))
  await waitFor(() => /handshake from/.test(recv.stderr()), 'the receiver to log the failed handshake')
  t.equal(recv.child.exitCode, null, 'an unauthenticated peer cannot end the receiver')
  recv.child.kill('SIGTERM')
  t.equal((await recv.done).code, 143)
  t.notOk(existsSync(join(dir, 'never.out')))
})

t.test('SPEC 3: an unauthorized client key is exit 3 (ERR_AUTH) and the receiver logs one line', async t => {
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '-'])
  const port = await waitForListening(recv)
  const s = await spawnCli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', keys.other, '--server-key', keys.serverPK, '-'], { stdin: 'pipe' }).done
  t.equal(s.code, 3, s.stderr)
  t.match(s.stderr, oneLineError('ERR_AUTH'))
  recv.child.kill('SIGINT')
  const r = await recv.done
  t.equal(r.code, 130)
  t.match(r.stderr, /handshake from 127\.0\.0\.1:\d+ failed: .*\(ERR_AUTH\)\n/)
})

t.test('SPEC 5.4: a byte flipped in transit after the first 16 KiB is exit 4 (ERR_INTEGRITY); no FILE; the sender exits 5', async t => {
  const src = join(dir, 'tamper.bin')
  const dst = join(dir, 'tamper.out')
  await writeRandomFile(src, 1024 * 1024)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), dst])
  const proxyPort = await tamperProxy(t, await waitForListening(recv), 20_000)
  const s = await spawnCli(t, ['send', ...connectArgs(keys, proxyPort), src]).done
  const r = await recv.done
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr.split('\n').at(-2), /^secure-pipe: .*\(ERR_INTEGRITY\)$/)
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /receiver may not have the data.*\(ERR_NETWORK\)\n$/)
  t.notOk(existsSync(dst), 'no FILE')
  t.same(readdirSync(dir).filter(f => f.includes('tamper.out')), [], 'no temporary file left')
})

t.test('issue 3: nothing listening is exit 5 (ERR_NETWORK)', async t => {
  const s = await spawnCli(t, ['send', ...connectArgs(keys, await closedPort()), '-'], { stdin: 'pipe' }).done
  t.equal(s.code, 5)
  t.match(s.stderr, oneLineError('ERR_NETWORK'))
  const r = await spawnCli(t, ['recv', ...connectArgs(keys, await closedPort()), '-']).done
  t.equal(r.code, 5)
})

t.test('issue 3: a port already in use is exit 5', async t => {
  const busy = createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.teardown(() => { busy.close() })
  const r = await spawnCli(t, ['recv', ...listenArgs(keys, (busy.address() as { port: number }).port), '-']).done
  t.equal(r.code, 5)
  t.match(r.stderr, /already in use.*\(ERR_NETWORK\)\n$/)
})

t.test('issue 3: a handshake that never answers is exit 5 (ERR_TIMEOUT)', async t => {
  const silent = createServer(() => {}).listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => { silent.close() })
  const port = (silent.address() as { port: number }).port
  const s = await spawnCli(t, ['send', ...connectArgs(keys, port), '--handshake-timeout', '0.5', '-'], { stdin: 'pipe' }).done
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, oneLineError('ERR_TIMEOUT'))
})

t.test('issue 3: recv refuses to overwrite an existing FILE without --force (exit 2, before listening)', async t => {
  const dst = join(dir, 'exists.out')
  writeFileSync(dst, 'precious\n')
  const r = await spawnCli(t, ['recv', ...listenArgs(keys), dst]).done
  t.equal(r.code, 2)
  t.match(r.stderr, /already exists.*--force.*\(ERR_USAGE\)\n$/)
  t.notMatch(r.stderr, /listening on/)
})

t.test('issue 3: an unreadable input file or missing authorized keys is exit 2', async t => {
  const s = await spawnCli(t, ['send', ...connectArgs(keys, 9), join(dir, 'no-such-input')]).done
  t.equal(s.code, 2)
  t.match(s.stderr, oneLineError('ERR_IO'))
  const r = await spawnCli(t, ['recv', '--listen', '127.0.0.1:0', '--key', keys.server, '--authorized', join(dir, 'nobody.pem'), '-']).done
  t.equal(r.code, 2)
  t.match(r.stderr, oneLineError('ERR_KEY'))
})

t.test('issue 3: role flags that do not fit the role are exit 2', async t => {
  const a = await spawnCli(t, ['recv', ...listenArgs(keys), '--server-key', keys.serverPK, '-']).done
  t.equal(a.code, 2)
  const b = await spawnCli(t, ['send', ...connectArgs(keys, 9), '--authorized', keys.clientPK, '-']).done
  t.equal(b.code, 2)
})
