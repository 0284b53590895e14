/**
 * issue 17 section 6: the mistakes a new user made that got a bad answer, each with the message
 * it gets now. Every refusal comes before listening or connecting (no "listening on" line).
 */
import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, connectArgs, listenArgs, makeKeys, runCli, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { HAS_SCRIPT, HAS_SSH_KEYGEN } from '../helpers/home.js'

const usage = (code: string): RegExp => new RegExp(`^secure-pipe: [^\\n]+ \\(${code}\\)\\n$`)

t.test('issue 17 s6: recv DIR/ (with its slash) creates the directory and receives into it; recv MISSING/FILE refuses before listening', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const inbox = join(dir, 'newdir') + '/'
  writeFileSync(join(dir, 'a.txt'), 'hello')
  const recv = spawnCli(t, ['recv', ...listenArgs(k), inbox])
  const sent = await runCli(t, ['send', ...connectArgs(k, await waitForListening(recv)), join(dir, 'a.txt')])
  t.equal(sent.code, 0, sent.stderr)
  t.equal((await recv.done).code, 0)
  t.equal(readFileSync(join(inbox, 'a.txt'), 'utf8'), 'hello', 'the new directory holds the file under its name')

  const missing = await runCli(t, ['recv', ...listenArgs(k), join(dir, 'nope', 'out.bin')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, usage('ERR_USAGE'))
  t.match(missing.stderr, /the directory .*nope does not exist; create it first \(mkdir -p .*nope\), or, to receive into a new directory, end its name with \/ \(recv NEWDIR\/\)/)
  t.notMatch(missing.stderr, /listening on/, 'refused before listening')
})

t.test('issue 17 s6: send with no path and a terminal on stdin refuses at once, before connecting', { skip: HAS_SCRIPT ? false : 'script(1) is not installed to provide a terminal' }, async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const cmd = [process.execPath, BIN, 'send', ...connectArgs(k, 9)].map(a => JSON.stringify(a)).join(' ')
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '' })
  t.equal(r.status, 2, r.stdout)
  t.match(r.stdout, /stdin is a terminal and no file was named: name the files to send, pipe the data in \(command \| secure-pipe send \.\.\.\), or give - to type it here \(end with Ctrl-D\) \(ERR_USAGE\)/)
})

t.test('issue 17 s6: pin KEY without HOST says that HOST comes first', async t => {
  const r = await runCli(t, ['pin', 'ssh-rsa', 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7', 'bob@laptop'])
  t.equal(r.code, 2)
  t.match(r.stderr, /^secure-pipe: HOST comes first: secure-pipe pin HOST\[:PORT\] KEY \(ssh-rsa\.\.\. is the start of a key, not a host\) \(ERR_USAGE\)\n$/)
  t.notMatch(r.stderr, /does not exist/)
})

t.test('issue 17 s6: an ed25519 private key says it is ed25519 and that RSA is needed', async t => {
  const dir = tempDir(t)
  const pem = join(dir, 'ed.pem')
  writeFileSync(pem, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 })
  const files = [pem]
  if (HAS_SSH_KEYGEN) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')])
    files.push(join(dir, 'id_ed25519'))
  } else t.comment('ssh-keygen is not installed: the OpenSSH form is not tried')
  for (const f of files) {
    const r = await runCli(t, ['fingerprint', f])
    t.equal(r.code, 2, f)
    t.match(r.stderr, /is an? (OpenSSH )?ed25519 key; secure-pipe needs an RSA key/, f)
    t.notMatch(r.stderr, /is not a private key/)
  }
})

t.test('issue 17 s6: a --passphrase-file other users can read is refused like such a key, with the chmod', async t => {
  const dir = tempDir(t)
  const key = join(dir, 'enc.pem')
  const pass = join(dir, 'pass.txt')
  writeFileSync(key, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'sesame' }), { mode: 0o600 })
  writeFileSync(pass, 'sesame\n', { mode: 0o600 })
  chmodSync(pass, 0o644)
  const r = await runCli(t, ['fingerprint', key, '--passphrase-file', pass])
  t.equal(r.code, 2)
  t.match(r.stderr, /^secure-pipe: passphrase file \S+pass\.txt is accessible by other users \(mode 0644\); a secret must be readable by you alone: run chmod 600 \S+pass\.txt \(ERR_KEY\)\n$/)
  chmodSync(pass, 0o600)
  const ok = await runCli(t, ['fingerprint', key, '--passphrase-file', pass])
  t.equal(ok.code, 0, ok.stderr)
})

/** The lowest port any user may bind (Linux sysctl; 1024 where it is absent). */
function unprivilegedPortStart(): number {
  try { return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) } catch { return 1024 }
}

/** Run the CLI in its own user and mount namespace over a read-only tmpfs at `ro`; undefined where namespaces are not allowed. */
function onReadOnly(ro: string, args: string[]): { status: number | null, stderr: string } | undefined {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${JSON.stringify(ro)}`], { encoding: 'utf8', timeout: 10_000 })
  if (probe.status !== 0) return undefined
  const cmd = `mount -t tmpfs -o ro tmpfs ${JSON.stringify(ro)} && exec ${[process.execPath, BIN, ...args].map(a => JSON.stringify(a)).join(' ')}`
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', cmd], { encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stderr: r.stderr }
}

t.test('issue 17 s6: recv -o on a read-only file system names the real cause, before listening', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const ro = join(dir, 'ro')
  execFileSync('mkdir', [ro])
  const cases: [string[], RegExp][] = [
    [['-o', join(ro, 'inbox')], /cannot create --output-dir \S+inbox: the file system is read-only \(ERR_IO\)/],
    [['-o', ro], /cannot receive into --output-dir \S+ro: the file system is read-only \(ERR_IO\)/],
    [[ro], /cannot receive into the directory \S+ro: the file system is read-only \(ERR_IO\)/],
    [[join(ro, 'out.bin')], /cannot receive into the directory \S+ro: the file system is read-only \(ERR_IO\)/],
  ]
  for (const [dest, want] of cases) {
    const r = onReadOnly(ro, ['recv', ...listenArgs(k), ...dest])
    if (!r) { t.comment('user namespaces are not available: cannot mount a read-only file system here'); break }
    t.equal(r.status, 2, r.stderr)
    t.match(r.stderr, want)
    t.notMatch(r.stderr, /does not exist|listening on/)
  }
})

t.test('issue 17 s6: listening on a privileged port without the privilege says what to do', { skip: process.getuid?.() !== 0 ? 'needs root to run the CLI as an unprivileged user' : unprivilegedPortStart() <= 80 ? 'this system lets anyone bind port 80' : false }, async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  for (const p of [dir, k.server, k.clientPK]) chownSync(p, 65534, 65534)
  // Through env -i: tap's process hooks (they write root's files) stay out of the unprivileged child.
  const argv = [process.execPath, BIN, 'recv', '--listen', '127.0.0.1:80', '--key', k.server, '--authorized', k.clientPK, '-']
  const child = spawn('env', ['-i', `SECURE_PIPE_HOME=${join(dir, 'home')}`, ...argv], { uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  clearTimeout(timer)
  t.equal(code, 5, err)
  t.match(err, /^secure-pipe: cannot listen on 127\.0\.0\.1:80: permission denied; ports below 1024 need privileges: use a port of 1024 or more \(--listen 127\.0\.0\.1:7070\), or allow node to bind them \(sudo setcap cap_net_bind_service=\+ep "\$\(command -v node\)"\) \(ERR_NETWORK\)\n$/)
  t.notMatch(err, /EACCES/, 'no raw errno text')
  t.notOk(existsSync(join(dir, 'home')), 'nothing was created')
})
