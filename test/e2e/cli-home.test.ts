/**
 * issue 10: the key home through the real CLI, with two separate homes standing in for two
 * machines on 127.0.0.1: the README quick start step by step and one identity in both roles
 * (cli-home-lists.test.ts: the list/remove commands, what-to-run messages, the old keys/ defaults).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256File, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'
import { HAS_SSH_KEYGEN, identity, okIn, runIn, startIn } from '../helpers/home.js'

t.test('issue 10: README quick start, step by step, on two homes (receiver listens, sender connects)', async t => {
  const dir = tempDir(t)
  const receiver = join(dir, 'receiver-home')
  const sender = join(dir, 'sender-home')
  // 1. on each machine: secure-pipe init, then secure-pipe id
  await Promise.all([okIn(t, receiver, ['init', '--bits', '2048']), okIn(t, sender, ['init', '--bits', '2048'])])
  t.equal(statSync(receiver).mode & 0o777, 0o700, 'home 0700')
  t.equal(statSync(join(receiver, 'identity')).mode & 0o777, 0o600, 'identity 0600')
  const [r, s] = await Promise.all([identity(t, receiver), identity(t, sender)])
  t.match(r.line, /^ssh-rsa AAAA\S+ \S+$/, 'id prints one ssh-rsa line')
  // 2. receiver: secure-pipe authorize <sender's line>; sender: secure-pipe pin HOST <receiver's line>
  const auth = await okIn(t, receiver, ['authorize', ...s.line.split(' ')])
  t.match(auth.stdout.toString(), s.fp, 'authorize prints the fingerprint to compare')
  const pin = await okIn(t, sender, ['pin', '127.0.0.1', r.line])
  t.match(pin.stdout.toString(), r.fp, 'pin prints the fingerprint to compare')
  // 3. receiver: secure-pipe recv --listen ADDRESS FILE; sender: secure-pipe send --connect HOST:PORT FILE
  const input = join(dir, 'report.pdf')
  const hash = await writeRandomFile(input, 300_000)
  const recv = startIn(t, receiver, ['recv', '--listen', '127.0.0.1:0', join(dir, 'received.pdf')])
  const port = await waitForListening(recv)
  const sent = await runIn(t, sender, ['send', '--connect', `127.0.0.1:${port}`, input])
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'received.pdf')), hash, 'the file arrived intact')
  t.match(sent.stderr, `peer ${r.fp}`, 'the sender names the receiver by the fingerprint its `id` printed')
  t.match(got.stderr, `peer ${s.fp}`, 'the receiver names the sender by the fingerprint its `id` printed')

  t.test('the same identity in the other role (fetch mode)', async t => {
    await Promise.all([okIn(t, sender, ['authorize', r.line]), okIn(t, receiver, ['pin', '127.0.0.1', s.line])])
    const serving = startIn(t, sender, ['send', '--listen', '127.0.0.1:0', input])
    const p = await waitForListening(serving)
    const fetched = await runIn(t, receiver, ['recv', '--connect', `127.0.0.1:${p}`, join(dir, 'fetched.pdf')])
    t.equal(fetched.code, 0, fetched.stderr)
    t.equal((await serving.done).code, 0)
    t.equal(await sha256File(join(dir, 'fetched.pdf')), hash)
  })
})

t.test('issue 10: id is one line that ssh-keygen reads, with the fingerprint ssh-keygen -l prints', { skip: HAS_SSH_KEYGEN ? false : 'ssh-keygen is not installed' }, async t => {
  const dir = tempDir(t)
  const home = join(dir, 'home')
  await okIn(t, home, ['init', '--bits', '2048'])
  const me = await identity(t, home)
  writeFileSync(join(dir, 'me.pub'), me.line + '\n')
  const lf = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'me.pub')], { encoding: 'utf8' })
  t.equal(lf.split(' ')[1], me.fp, 'ssh-keygen -lf shows the same SHA256: value')
  const fp = await okIn(t, home, ['fingerprint', join(home, 'identity')])
  t.equal(fp.stdout.toString(), me.fp + '\n', '`fingerprint` of the private key agrees')
})

