/**
 * issue 10 formats, with keys made by `ssh-keygen` at test time: OpenSSH (openssh-key-v1), PEM
 * PKCS#1 and PKCS#8, each plain and passphrase-protected, read by the real CLI; fingerprints equal
 * what `ssh-keygen -lf` prints; `ssh-rsa` lines work as --server-key, --authorized and in the
 * home; passphrases come from --passphrase-file, SECURE_PIPE_PASSPHRASE or a terminal prompt.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, sha256File, spawnCli, tempDir, waitForListening, writeRandomFile, type CliResult, type Teardown } from '../helpers/cli.js'
import { HAS_SCRIPT, HAS_SSH_KEYGEN } from '../helpers/home.js'

const PASS = 'correct horse battery'

interface Made { file: string, pub: string, fp: string }

/** `ssh-keygen -t rsa -b 2048 [-m FORMAT] -N PASS`, and the fingerprint ssh-keygen prints for it. */
function sshKeygen(dir: string, name: string, format: string | undefined, passphrase: string): Made {
  const file = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', ...(format ? ['-m', format] : []), '-N', passphrase, '-C', `test-${name}`, '-f', file])
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!
  return { file, pub: `${file}.pub`, fp }
}

function cli(t: Teardown, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return spawnCli(t, args, { env: { SECURE_PIPE_HOME: '/nonexistent/secure-pipe-test-home', ...env } }).done
}

const FORMATS = [
  { label: 'OpenSSH (openssh-key-v1)', format: undefined, marker: /BEGIN OPENSSH PRIVATE KEY/ },
  { label: 'PEM PKCS#1', format: 'PEM', marker: /BEGIN RSA PRIVATE KEY/ },
  { label: 'PEM PKCS#8', format: 'PKCS8', marker: /BEGIN (ENCRYPTED )?PRIVATE KEY/ },
]

t.test('issue 10: every ssh-keygen private key format, plain and encrypted, gives the fingerprint ssh-keygen -lf prints', { skip: HAS_SSH_KEYGEN ? false : 'ssh-keygen is not installed on this machine' }, async t => {
  const dir = tempDir(t)
  const passFile = join(dir, 'passphrase')
  writeFileSync(passFile, PASS + '\n', { mode: 0o600 })
  // The six keys are independent: check them concurrently (each check is a CLI process).
  const cases = FORMATS.flatMap(f => [false, true].map(encrypted => ({ ...f, encrypted })))
  await Promise.all(cases.map(async ({ label, format, marker, encrypted }) => {
    const name = `${label}${encrypted ? ' encrypted' : ''}`
    const k = sshKeygen(dir, `${format ?? 'openssh'}-${encrypted ? 'enc' : 'plain'}`, format, encrypted ? PASS : '')
    t.match(readFileSync(k.file, 'utf8'), marker, `${name}: ssh-keygen wrote that format`)
    const [r, pub] = await Promise.all([
      cli(t, ['fingerprint', k.file, ...(encrypted ? ['--passphrase-file', passFile] : [])]),
      cli(t, ['fingerprint', k.pub]),
    ])
    t.equal(r.code, 0, `${name}: ${r.stderr}`)
    t.equal(r.stdout.toString(), k.fp + '\n', `${name}: private key fingerprint = ssh-keygen -lf`)
    t.equal(pub.stdout.toString(), k.fp + '\n', `${name}: the ssh-rsa .pub line gives the same fingerprint`)
    if (!encrypted) return
    const [env, wrong, none] = await Promise.all([
      cli(t, ['fingerprint', k.file], { SECURE_PIPE_PASSPHRASE: PASS }),
      cli(t, ['fingerprint', k.file], { SECURE_PIPE_PASSPHRASE: 'not it' }),
      cli(t, ['fingerprint', k.file]),
    ])
    t.equal(env.stdout.toString(), k.fp + '\n', `${name}: passphrase from SECURE_PIPE_PASSPHRASE`)
    t.equal(wrong.code, 2, `${name}: wrong passphrase`)
    t.match(wrong.stderr, /wrong passphrase.*\(ERR_KEY\)\n$/)
    t.equal(none.code, 2, `${name}: no passphrase and no terminal`)
    t.match(none.stderr, /is encrypted and there is no terminal to ask for its passphrase: use --passphrase-file FILE or set SECURE_PIPE_PASSPHRASE \(ERR_KEY\)\n$/)
  }))
})

t.test('issue 10: a transfer with ssh-keygen keys: encrypted OpenSSH --key, ssh-rsa lines as --server-key and --authorized', { skip: HAS_SSH_KEYGEN ? false : 'ssh-keygen is not installed on this machine' }, async t => {
  const dir = tempDir(t)
  const server = sshKeygen(dir, 'server', undefined, '')
  const client = sshKeygen(dir, 'client', undefined, PASS)
  const input = join(dir, 'in.bin')
  const hash = await writeRandomFile(input, 200_000)
  const recv = spawnCli(t, ['recv', '--listen', '127.0.0.1:0', '--key', server.file, '--authorized', client.pub, join(dir, 'out.bin')])
  const port = await waitForListening(recv)
  const sent = await cli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', client.file, '--server-key', server.pub, input], { SECURE_PIPE_PASSPHRASE: PASS })
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'out.bin')), hash)
  t.match(sent.stderr, `peer ${server.fp}`, 'the summary names the peer by its ssh-keygen fingerprint')
  t.match(got.stderr, `peer ${client.fp}`)
})

t.test('issue 10: an encrypted key asks for its passphrase on the terminal, without echo', { skip: !HAS_SSH_KEYGEN ? 'ssh-keygen is not installed on this machine' : !HAS_SCRIPT ? 'script(1) is not installed to provide a terminal' : false }, async t => {
  const dir = tempDir(t)
  const k = sshKeygen(dir, 'prompted', undefined, PASS)
  // script(1) runs the CLI on a pseudo-terminal; the passphrase is typed once the prompt shows.
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fingerprint ${JSON.stringify(k.file)}`
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SECURE_PIPE_HOME: dir } })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c
    if (/Enter passphrase for .*: $/.test(out)) child.stdin.write(PASS + '\r')
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  t.teardown(() => { clearTimeout(timer); child.kill('SIGKILL') })
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  t.equal(code, 0, out)
  t.match(out, `Enter passphrase for ${k.file}: `, 'the prompt names the key file')
  t.match(out, k.fp, 'the key was decrypted')
  t.notMatch(out, PASS, 'the passphrase was not echoed')
})
