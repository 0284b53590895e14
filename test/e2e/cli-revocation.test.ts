/**
 * issue 17 section 2: revocation takes effect on a running `recv --keep-open`, as sshd reads
 * authorized_keys at each connection. The attack as the review mounted it: revoke a key, then
 * that client's next `send` to the same running server; it must fail with ERR_AUTH and land nothing.
 */
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, makeKeys, runCli, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { identity, okIn, runIn, startIn } from '../helpers/home.js'

t.test('issue 17 s2: revoke on a running recv --keep-open refuses that key from the next connection; others still land', async t => {
  const dir = tempDir(t)
  const [receiver, alice, bob] = ['receiver', 'alice', 'bob'].map(n => join(dir, n))
  await Promise.all([receiver, alice, bob].map(h => okIn(t, h, ['init', '--bits', '2048'])))
  const [r, a, b] = await Promise.all([identity(t, receiver), identity(t, alice), identity(t, bob)])
  await okIn(t, receiver, ['authorize', a.line, '--name', 'alice'])
  await okIn(t, receiver, ['authorize', b.line, '--name', 'bob'])
  await Promise.all([okIn(t, alice, ['pin', '127.0.0.1', r.line]), okIn(t, bob, ['pin', '127.0.0.1', r.line])])
  const inbox = join(dir, 'inbox')
  const server = startIn(t, receiver, ['recv', '--listen', '127.0.0.1:0', '--keep-open', '--output-dir', inbox])
  const port = await waitForListening(server)
  const send = (home: string, name: string): ReturnType<typeof runIn> => {
    writeFileSync(join(dir, name), `content of ${name}\n`)
    return runIn(t, home, ['send', '--connect', `127.0.0.1:${port}`, join(dir, name)])
  }

  t.equal((await send(alice, 'a1.txt')).code, 0, 'alice is authorized')
  t.match((await okIn(t, receiver, ['revoke', 'alice'])).stdout.toString(), `revoked: alice ${a.fp}`)
  const refused = await send(alice, 'a2.txt')
  t.equal(refused.code, 3, 'the revoked key is refused at its next connection')
  t.match(refused.stderr, /does not accept this machine's key .*\(ERR_AUTH\)\n$/)
  t.notOk(readdirSync(inbox).some(f => f.includes('a2')), 'nothing of the refused transfer landed')
  t.equal((await send(bob, 'b1.txt')).code, 0, 'a key still listed is served by the same running server')
  await okIn(t, receiver, ['authorize', a.line, '--name', 'alice'])
  t.equal((await send(alice, 'a3.txt')).code, 0, 'authorizing again takes effect too')
  t.same(readdirSync(inbox).sort(), ['a1.txt', 'a3.txt', 'b1.txt'])
  t.equal(server.child.exitCode, null, 'the server kept serving throughout')
  t.match(server.stderr(), new RegExp(`handshake from 127\\.0\\.0\\.1:\\d+ failed: the client presented a key that is not authorized \\(${a.fp.replace(/[+/]/g, '\\$&')}\\).*\\(ERR_AUTH\\)`))
})

t.test('issue 17 s2: --authorized FILE edited while recv --keep-open runs: a removed key is refused, a broken file refuses everyone', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const peers = join(dir, 'peers.pem')
  const both = readFileSync(k.clientPK, 'utf8') + readFileSync(k.otherPK, 'utf8')
  writeFileSync(peers, both)
  const inbox = join(dir, 'inbox')
  const server = spawnCli(t, ['recv', '--listen', '127.0.0.1:0', '--key', k.server, '--authorized', peers, '--keep-open', '--output-dir', inbox])
  const port = await waitForListening(server)
  const send = (key: string, name: string): ReturnType<typeof runCli> => {
    writeFileSync(join(dir, name), name)
    return runCli(t, ['send', ...connectArgs({ ...k, client: key }, port), join(dir, name)])
  }
  t.equal((await send(k.client, 'c1')).code, 0)
  writeFileSync(peers, readFileSync(k.otherPK, 'utf8')) // edited in place: same inode, new size and mtime
  t.equal((await send(k.client, 'c2')).code, 3, 'the key removed from the file is refused')
  t.equal((await send(k.other, 'o1')).code, 0, 'the key left in the file is served')
  writeFileSync(peers, 'not a key\n')
  t.equal((await send(k.other, 'o2')).code, 3, 'a file that no longer parses refuses everyone (fail closed)')
  t.match(server.stderr(), /authorized keys file .*peers\.pem holds no public key.*every connection is refused until that is fixed/)
  t.same(readdirSync(inbox).sort(), ['c1', 'o1'])
})

t.test('issue 17 s2: revoke NAME shared by two keys refuses, lists their fingerprints, and removes nothing', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  const one = await okIn(t, home, ['authorize', k.clientPK, '--name', 'laptop'])
  const two = await okIn(t, home, ['authorize', k.otherPK, '--name', 'laptop'])
  const fps = [one, two].map(r => /fingerprint (SHA256:\S+):/.exec(r.stdout.toString())![1]!)
  const r = await runIn(t, home, ['revoke', 'laptop'])
  t.equal(r.code, 2)
  t.match(r.stderr, `2 keys are named laptop`)
  for (const fp of fps) t.match(r.stderr, fp, 'each candidate is listed by fingerprint')
  t.match(r.stderr, /nothing was revoked: give the fingerprint of the one to revoke.*\(ERR_KEY\)\n$/)
  t.equal((await okIn(t, home, ['authorized'])).stdout.toString().split('\n').filter(Boolean).length, 2, 'both keys are still authorized')
  t.match((await okIn(t, home, ['revoke', fps[1]!])).stdout.toString(), `revoked: laptop ${fps[1]}`)
  t.same((await okIn(t, home, ['authorized'])).stdout.toString(), `laptop ${fps[0]}\n`, 'only the key named by fingerprint went')
})
