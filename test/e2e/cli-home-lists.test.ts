/**
 * issue 10: the key home through the real CLI: the list/remove commands, the messages that say
 * what to run when an identity, authorized key or pin is missing, and the old keys/ defaults.
 */
import t from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeKeys, sha256File, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'
import { okIn, runIn, startIn } from '../helpers/home.js'

t.test('issue 10: authorized/revoke and pins/unpin list and remove; a pin for HOST:PORT wins over HOST', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  await okIn(t, home, ['authorize', k.clientPK, '--name', 'laptop'])
  await okIn(t, home, ['authorize', k.otherPK])
  const list = await okIn(t, home, ['authorized'])
  t.match(list.stdout.toString(), /^laptop SHA256:\S+\nother SHA256:\S+\n$/)
  t.match((await okIn(t, home, ['revoke', 'laptop'])).stdout.toString(), /^revoked: laptop /)
  t.match((await okIn(t, home, ['authorized'])).stdout.toString(), /^other SHA256:\S+\n$/)
  const missing = await runIn(t, home, ['revoke', 'laptop'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /no key named laptop in .*authorized_keys.*\(ERR_KEY\)\n$/)

  await okIn(t, home, ['pin', '127.0.0.1', k.otherPK])
  await okIn(t, home, ['pin', '127.0.0.1:7999', k.serverPK])
  const replaced = await okIn(t, home, ['pin', '127.0.0.1', k.serverPK])
  t.match(replaced.stdout.toString(), /replaced SHA256:/, 'replacing a pin says so')
  t.match((await okIn(t, home, ['pins'])).stdout.toString(), /^127\.0\.0\.1:7999 SHA256:\S+ server\n127\.0\.0\.1 SHA256:\S+ server\n$/)
  t.match((await okIn(t, home, ['unpin', '127.0.0.1:7999'])).stdout.toString(), /^unpinned: 127\.0\.0\.1:7999 /)
  await okIn(t, home, ['pin', 'LocalHost', k.serverPK])
  const mixedCase = await runIn(t, home, ['send', '--connect', 'LOCALHOST:9', '--key', k.client, '-'], { cwd: dir })
  t.equal(mixedCase.code, 5, 'a pin made as LocalHost is found for --connect LOCALHOST: the connection is tried')
  t.match(mixedCase.stderr, /connecting to LOCALHOST:9: /)
  const none = await runIn(t, home, ['unpin', '127.0.0.1:7999'])
  t.equal(none.code, 2)
  t.match(none.stderr, /no key is pinned for 127\.0\.0\.1:7999/)
})

t.test('issue 10: a missing identity, authorized key or pin fails before the network with what to run', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const empty = join(dir, 'empty-home')
  const noId = await runIn(t, empty, ['send', '--connect', '127.0.0.1:9', '-'], { cwd: dir })
  t.equal(noId.code, 2)
  t.match(noId.stderr, /there is no identity in .*empty-home: run `secure-pipe init` once on this machine \(or pass --key FILE\) \(ERR_KEY\)\n$/)
  const home = join(dir, 'home')
  await okIn(t, home, ['init', '--bits', '2048'])
  const noPeer = await runIn(t, home, ['recv', '--listen', '127.0.0.1:0', join(dir, 'x')], { cwd: dir })
  t.equal(noPeer.code, 2)
  t.match(noPeer.stderr, /no peer may connect yet .*run `secure-pipe authorize KEY`.*\(ERR_KEY\)\n$/)
  t.notMatch(noPeer.stderr, /listening on/)
  const noPin = await runIn(t, home, ['send', '--connect', '127.0.0.1:9', '-'], { cwd: dir })
  t.equal(noPin.code, 2)
  t.match(noPin.stderr, /no key is pinned for 127\.0\.0\.1:9 in .*known_peers: run `secure-pipe pin 127\.0\.0\.1:9 KEY`/)
  const flags = await runIn(t, home, ['send', '--connect', '127.0.0.1:9', '--server-key', k.serverPK, '-'], { cwd: dir })
  t.equal(flags.code, 5, '--server-key overrides the missing pin (and the home identity is used): the connection is tried')
  t.match(flags.stderr, /ERR_NETWORK/)
})

t.test('issue 10: migration: the old keys/ defaults in the working directory still work, with a note', async t => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'keys'))
  makeKeys(join(dir, 'keys'))
  const home = join(dir, 'no-home-yet')
  const input = join(dir, 'in.bin')
  const hash = await writeRandomFile(input, 10_000)
  const recv = startIn(t, home, ['recv', '--listen', '127.0.0.1:0', 'out.bin'], { cwd: dir })
  const port = await waitForListening(recv)
  const sent = await runIn(t, home, ['send', '--connect', `127.0.0.1:${port}`, input], { cwd: dir })
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'out.bin')), hash)
  t.match(got.stderr, /using the old default keys\/server\.pem; run `secure-pipe init`/)
  t.match(sent.stderr, /using the old default keys\/client\.pem; run `secure-pipe init`/)
  t.equal(readFileSync(join(dir, 'keys', 'serverPK.pem'), 'utf8').startsWith('-----BEGIN PUBLIC KEY-----'), true)
})
