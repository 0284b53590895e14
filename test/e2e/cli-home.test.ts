/**
 * issue 10: the key home through the real CLI, with two separate homes standing in for two
 * machines on 127.0.0.1: the README quick start step by step, one identity in both roles, the
 * list/remove commands, the messages that say what to run, and the old keys/ defaults.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeKeys, sha256File, spawnCli, tempDir, waitForListening, writeRandomFile, type CliProcess, type CliResult, type Teardown } from '../helpers/cli.js'

function start(t: Teardown, home: string, args: string[], cwd?: string): CliProcess {
  return spawnCli(t, args, { env: { SECURE_PIPE_HOME: home }, ...(cwd ? { cwd } : {}) })
}
function cli(t: Teardown, home: string, args: string[], cwd?: string): Promise<CliResult> {
  return start(t, home, args, cwd).done
}
/** What `ok` needs of a tap Test (the subtest type is not exported by name). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Checks = Teardown & { equal: (...args: any[]) => unknown }

async function ok(t: Checks, home: string, args: string[]): Promise<CliResult> {
  const r = await cli(t, home, args)
  t.equal(r.code, 0, `secure-pipe ${args[0]}: ${r.stderr}`)
  return r
}

/** `id`: the line (stdout) and the fingerprint (stderr). */
async function identity(t: Checks, home: string): Promise<{ line: string, fp: string }> {
  const r = await ok(t, home, ['id'])
  return { line: r.stdout.toString().trim(), fp: /fingerprint: (SHA256:\S+)/.exec(r.stderr)![1]! }
}

let sshKeygen = true
try { execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' }) } catch (err) { sshKeygen = (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== 'ENOENT' }

t.test('issue 10: README quick start, step by step, on two homes (receiver listens, sender connects)', async t => {
  const dir = tempDir(t)
  const receiver = join(dir, 'receiver-home')
  const sender = join(dir, 'sender-home')
  // 1. on each machine: secure-pipe init, then secure-pipe id
  await ok(t, receiver, ['init', '--bits', '2048'])
  await ok(t, sender, ['init', '--bits', '2048'])
  t.equal(statSync(receiver).mode & 0o777, 0o700, 'home 0700')
  t.equal(statSync(join(receiver, 'identity')).mode & 0o777, 0o600, 'identity 0600')
  const r = await identity(t, receiver)
  const s = await identity(t, sender)
  t.match(r.line, /^ssh-rsa AAAA\S+ \S+$/, 'id prints one ssh-rsa line')
  // 2. receiver: secure-pipe authorize <sender's line>; sender: secure-pipe pin HOST <receiver's line>
  const auth = await ok(t, receiver, ['authorize', ...s.line.split(' ')])
  t.match(auth.stdout.toString(), s.fp, 'authorize prints the fingerprint to compare')
  const pin = await ok(t, sender, ['pin', '127.0.0.1', r.line])
  t.match(pin.stdout.toString(), r.fp, 'pin prints the fingerprint to compare')
  // 3. receiver: secure-pipe recv --listen ADDRESS FILE; sender: secure-pipe send --connect HOST:PORT FILE
  const input = join(dir, 'report.pdf')
  const hash = await writeRandomFile(input, 300_000)
  const recv = start(t, receiver, ['recv', '--listen', '127.0.0.1:0', join(dir, 'received.pdf')])
  const port = await waitForListening(recv)
  const sent = await cli(t, sender, ['send', '--connect', `127.0.0.1:${port}`, input])
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'received.pdf')), hash, 'the file arrived intact')
  t.match(sent.stderr, `peer ${r.fp}`, 'the sender names the receiver by the fingerprint its `id` printed')
  t.match(got.stderr, `peer ${s.fp}`, 'the receiver names the sender by the fingerprint its `id` printed')

  t.test('the same identity in the other role (fetch mode)', async t => {
    await ok(t, sender, ['authorize', r.line])
    await ok(t, receiver, ['pin', '127.0.0.1', s.line])
    const serving = start(t, sender, ['send', '--listen', '127.0.0.1:0', input])
    const p = await waitForListening(serving)
    const fetched = await cli(t, receiver, ['recv', '--connect', `127.0.0.1:${p}`, join(dir, 'fetched.pdf')])
    t.equal(fetched.code, 0, fetched.stderr)
    t.equal((await serving.done).code, 0)
    t.equal(await sha256File(join(dir, 'fetched.pdf')), hash)
  })
})

t.test('issue 10: id is one line that ssh-keygen reads, with the fingerprint ssh-keygen -l prints', { skip: sshKeygen ? false : 'ssh-keygen is not installed' }, async t => {
  const dir = tempDir(t)
  const home = join(dir, 'home')
  await ok(t, home, ['init', '--bits', '2048'])
  const me = await identity(t, home)
  writeFileSync(join(dir, 'me.pub'), me.line + '\n')
  const lf = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'me.pub')], { encoding: 'utf8' })
  t.equal(lf.split(' ')[1], me.fp, 'ssh-keygen -lf shows the same SHA256: value')
  const fp = await ok(t, home, ['fingerprint', join(home, 'identity')])
  t.equal(fp.stdout.toString(), me.fp + '\n', '`fingerprint` of the private key agrees')
})

t.test('issue 10: authorized/revoke and pins/unpin list and remove; a pin for HOST:PORT wins over HOST', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  await ok(t, home, ['authorize', k.clientPK, '--name', 'laptop'])
  await ok(t, home, ['authorize', k.otherPK])
  const list = await ok(t, home, ['authorized'])
  t.match(list.stdout.toString(), /^laptop SHA256:\S+\nother SHA256:\S+\n$/)
  t.match((await ok(t, home, ['revoke', 'laptop'])).stdout.toString(), /^revoked: laptop /)
  t.match((await ok(t, home, ['authorized'])).stdout.toString(), /^other SHA256:\S+\n$/)
  const missing = await cli(t, home, ['revoke', 'laptop'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /no key named laptop in .*authorized_keys.*\(ERR_KEY\)\n$/)

  await ok(t, home, ['pin', '127.0.0.1', k.otherPK])
  await ok(t, home, ['pin', '127.0.0.1:7999', k.serverPK])
  const replaced = await ok(t, home, ['pin', '127.0.0.1', k.serverPK])
  t.match(replaced.stdout.toString(), /replaced SHA256:/, 'replacing a pin says so')
  t.match((await ok(t, home, ['pins'])).stdout.toString(), /^127\.0\.0\.1:7999 SHA256:\S+ server\n127\.0\.0\.1 SHA256:\S+ server\n$/)
  t.match((await ok(t, home, ['unpin', '127.0.0.1:7999'])).stdout.toString(), /^unpinned: 127\.0\.0\.1:7999 /)
  const none = await cli(t, home, ['unpin', '127.0.0.1:7999'])
  t.equal(none.code, 2)
  t.match(none.stderr, /no key is pinned for 127\.0\.0\.1:7999/)
})

t.test('issue 10: a missing identity, authorized key or pin fails before the network with what to run', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const empty = join(dir, 'empty-home')
  const noId = await cli(t, empty, ['send', '--connect', '127.0.0.1:9', '-'], dir)
  t.equal(noId.code, 2)
  t.match(noId.stderr, /there is no identity in .*empty-home: run `secure-pipe init` once on this machine \(or pass --key FILE\) \(ERR_KEY\)\n$/)
  const home = join(dir, 'home')
  await ok(t, home, ['init', '--bits', '2048'])
  const noPeer = await cli(t, home, ['recv', '--listen', '127.0.0.1:0', join(dir, 'x')], dir)
  t.equal(noPeer.code, 2)
  t.match(noPeer.stderr, /no peer may connect yet .*run `secure-pipe authorize KEY`.*\(ERR_KEY\)\n$/)
  t.notMatch(noPeer.stderr, /listening on/)
  const noPin = await cli(t, home, ['send', '--connect', '127.0.0.1:9', '-'], dir)
  t.equal(noPin.code, 2)
  t.match(noPin.stderr, /no key is pinned for 127\.0\.0\.1:9 in .*known_peers: run `secure-pipe pin 127\.0\.0\.1:9 KEY`/)
  const flags = await cli(t, home, ['send', '--connect', '127.0.0.1:9', '--server-key', k.serverPK, '-'], dir)
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
  const recv = start(t, home, ['recv', '--listen', '127.0.0.1:0', 'out.bin'], dir)
  const port = await waitForListening(recv)
  const sent = await cli(t, home, ['send', '--connect', `127.0.0.1:${port}`, input], dir)
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'out.bin')), hash)
  t.match(got.stderr, /using the old default keys\/server\.pem; run `secure-pipe init`/)
  t.match(sent.stderr, /using the old default keys\/client\.pem; run `secure-pipe init`/)
  t.equal(readFileSync(join(dir, 'keys', 'serverPK.pem'), 'utf8').startsWith('-----BEGIN PUBLIC KEY-----'), true)
})
