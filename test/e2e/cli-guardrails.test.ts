/**
 * issue 10 guardrails, through the real CLI: a private key where a public key belongs is refused
 * (--server-key, --authorized, authorize, pin), a private key other users can read is refused with
 * the chmod to run, and key files are written through a fresh 0600 file renamed into place (a
 * symlink at the target is replaced, never followed; an old file is never rewritten in place).
 */
import t from 'tap'
import { chmodSync, existsSync, linkSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeKeys, tempDir } from '../helpers/cli.js'
import { runIn } from '../helpers/home.js'

const PHRASE = 'this is a private key: give the public key, and never copy a private key to another machine'

t.test('issue 10: a private key given as --server-key is refused before connecting (exit 2, ERR_KEY)', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const r = await runIn(t, join(dir, 'home'), ['send', '--connect', '127.0.0.1:9', '--key', k.client, '--server-key', k.server, '-'])
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, `public key file ${k.server}: ${PHRASE}`)
  t.match(r.stderr, /\(ERR_KEY\)\n$/)
  t.notMatch(r.stderr, /refused|ERR_NETWORK/, 'no connection was attempted')
})

t.test('issue 10: a private key given as --authorized is refused before listening (exit 2, ERR_KEY)', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const both = join(dir, 'mixed.pem')
  writeFileSync(both, readFileSync(k.clientPK, 'utf8') + readFileSync(k.client, 'utf8'))
  for (const file of [k.client, both]) {
    const r = await runIn(t, join(dir, 'home'), ['recv', '--listen', '127.0.0.1:0', '--key', k.server, '--authorized', file, join(dir, 'out')])
    t.equal(r.code, 2, r.stderr)
    t.match(r.stderr, PHRASE)
    t.notMatch(r.stderr, /listening on/, 'never listened')
    t.notOk(existsSync(join(dir, 'out')), 'nothing written')
  }
})

t.test('issue 10: authorize and pin refuse a private key (file or pasted) and write nothing', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  const pasted = readFileSync(k.client, 'utf8')
  for (const args of [['authorize', k.client], ['authorize', '-'], ['pin', '127.0.0.1:7070', k.server], ['pin', 'host', '-']]) {
    const r = await runIn(t, home, args, args.includes('-') ? { stdin: pasted } : {})
    t.equal(r.code, 2, `${args[0]}: ${r.stderr}`)
    t.match(r.stderr, PHRASE)
    t.match(r.stderr, /^secure-pipe: [^\n]+ \(ERR_KEY\)\n$/, 'one line')
  }
  t.notOk(existsSync(join(home, 'authorized_keys')), 'no authorized_keys written')
  t.notOk(existsSync(join(home, 'known_peers')), 'no pin written')
})

t.test('issue 10: a private key readable by group or others is refused with the chmod 600 to run', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    chmodSync(k.client, mode)
    const r = await runIn(t, join(dir, 'home'), ['send', '--connect', '127.0.0.1:9', '--key', k.client, '--server-key', k.serverPK, '-'])
    t.equal(r.code, 2, `mode ${mode.toString(8)}`)
    t.match(r.stderr, `(mode 0${mode.toString(8)})`)
    t.match(r.stderr, `run chmod 600 ${k.client} (ERR_KEY)\n`, 'the exact command')
  }
  chmodSync(k.client, 0o600)
  const spaced = join(dir, 'my key.pem')
  writeFileSync(spaced, readFileSync(k.client), { mode: 0o644 })
  chmodSync(spaced, 0o644)
  const r = await runIn(t, join(dir, 'home'), ['send', '--connect', '127.0.0.1:9', '--key', spaced, '--server-key', k.serverPK, '-'])
  t.match(r.stderr, `run chmod 600 '${spaced}' (ERR_KEY)`, 'a path with a space is quoted for the shell')
})

t.test('issue 8.3, 10: keygen --force replaces a symlink at the target instead of writing through it', async t => {
  const dir = tempDir(t)
  const victim = join(dir, 'victim.txt')
  writeFileSync(victim, 'do not touch\n', { mode: 0o644 })
  chmodSync(victim, 0o644)
  symlinkSync(victim, join(dir, 'a.pem'))
  const refused = await runIn(t, join(dir, 'home'), ['keygen', '--name', 'a', '--out', dir, '--bits', '2048'])
  t.equal(refused.code, 2, 'without --force an existing name (a symlink) is refused')
  t.match(refused.stderr, /already exists.*\(ERR_KEY\)\n$/)
  const r = await runIn(t, join(dir, 'home'), ['keygen', '--name', 'a', '--out', dir, '--bits', '2048', '--force'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n', 'the symlink target is untouched')
  t.equal(statSync(victim).mode & 0o777, 0o644, 'and keeps its mode (no chmod through the link)')
  t.ok(lstatSync(join(dir, 'a.pem')).isFile(), 'a.pem is now a regular file')
  t.equal(statSync(join(dir, 'a.pem')).mode & 0o777, 0o600)
})

t.test('issue 8.3, 10: a dangling symlink at the target is not followed to create a file', async t => {
  const dir = tempDir(t)
  const elsewhere = join(dir, 'elsewhere.pem')
  symlinkSync(elsewhere, join(dir, 'b.pem'))
  const r = await runIn(t, join(dir, 'home'), ['keygen', '--name', 'b', '--out', dir, '--bits', '2048'])
  t.equal(r.code, 2)
  t.notOk(existsSync(elsewhere), 'nothing created where the link points')
})

t.test('issue 8.3, 10: keygen --force writes a new 0600 file and renames it over; the old inode is never rewritten', async t => {
  const dir = tempDir(t)
  t.equal((await runIn(t, join(dir, 'home'), ['keygen', '--name', 'c', '--out', dir, '--bits', '2048'])).code, 0)
  const key = join(dir, 'c.pem')
  chmodSync(key, 0o644)
  const before = readFileSync(key, 'utf8')
  const link = join(dir, 'old-c.pem')
  linkSync(key, link) // a second name for the old file: if it were truncated and rewritten, this would change
  const r = await runIn(t, join(dir, 'home'), ['keygen', '--name', 'c', '--out', dir, '--bits', '2048', '--force'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(link, 'utf8'), before, 'the old file still holds the old key')
  t.equal(statSync(link).mode & 0o777, 0o644, 'and its old mode: nothing chmodded it')
  t.not(statSync(key).ino, statSync(link).ino, 'c.pem is a new file')
  t.equal(statSync(key).mode & 0o777, 0o600, 'created 0600')
  t.not(readFileSync(key, 'utf8'), before)
  t.same(readdirSync(dir).filter(f => f.endsWith('.tmp')), [], 'no temp file left behind')
})

t.test('issue 10: init --force over a symlinked identity replaces the link; the home is 0700', async t => {
  const dir = tempDir(t)
  const home = join(dir, 'home')
  t.equal((await runIn(t, home, ['init', '--bits', '2048'])).code, 0)
  t.equal(statSync(home).mode & 0o777, 0o700, 'home 0700')
  t.equal(statSync(join(home, 'identity')).mode & 0o777, 0o600, 'identity 0600')
  const again = await runIn(t, home, ['init', '--bits', '2048'])
  t.equal(again.code, 2, 'init refuses to replace an identity')
  t.match(again.stderr, /init --force/)
  const victim = join(dir, 'victim')
  writeFileSync(victim, 'x')
  rmSync(join(home, 'identity'))
  symlinkSync(victim, join(home, 'identity'))
  const r = await runIn(t, home, ['init', '--bits', '2048', '--force'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(victim, 'utf8'), 'x', 'the link target is untouched')
  t.ok(lstatSync(join(home, 'identity')).isFile())
})

t.test('issue 10: an authorized_keys or key home that other users can write is refused with the chmod to run', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  t.equal((await runIn(t, home, ['authorize', k.clientPK])).code, 0)
  const listen = ['recv', '--listen', '127.0.0.1:0', '--key', k.server, join(dir, 'out')]
  chmodSync(join(home, 'authorized_keys'), 0o666)
  const file = await runIn(t, home, listen, { cwd: dir })
  t.equal(file.code, 2, file.stderr)
  t.match(file.stderr, `${join(home, 'authorized_keys')} can be changed by other users (mode 0666), who could add their own key: run chmod 600 ${join(home, 'authorized_keys')} (ERR_KEY)`)
  t.notMatch(file.stderr, /listening on/)
  chmodSync(join(home, 'authorized_keys'), 0o600)
  chmodSync(home, 0o777)
  const directory = await runIn(t, home, listen, { cwd: dir })
  t.equal(directory.code, 2, directory.stderr)
  t.match(directory.stderr, `run chmod 700 ${home} (ERR_KEY)`)
  chmodSync(home, 0o700)
})
