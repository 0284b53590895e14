/**
 * issue 20: OpenSSH through `connect` as its ProxyCommand, to a real sshd on 127.0.0.1 behind
 * `serve --to 127.0.0.1:PORT`: a command runs, and 8 MiB go each way byte for byte. sshd runs
 * as root (privilege separation) from a temporary config, host key and authorized key.
 */
import t from 'tap'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BIN, makeKeys, sha256, tempDir, waitFor, type Teardown, type TestKeys } from '../helpers/cli.js'
import { freePort, skipUnless, startServe } from '../helpers/tunnel.js'

const run = promisify(execFile)

function skip(): string | false {
  return skipUnless('sshd', 'ssh', 'ssh-keygen') || (process.getuid?.() === 0 ? false : 'sshd needs root (privilege separation)')
}

/** sshd -D on 127.0.0.1:port with a fresh host key; `clientKey` (ssh-keygen's .pub) is the only authorized key. */
async function startSshd(t: Teardown, dir: string, clientPub: string): Promise<number> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')])
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(clientPub))
  const port = await freePort()
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PidFile none', 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', 'AllowUsers root', '',
  ].join('\n'))
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }) // its privilege-separation directory
  // sshd re-executes itself, so it needs its absolute path.
  const path = spawnSync('sh', ['-c', 'command -v sshd']).stdout.toString().trim() || '/usr/sbin/sshd'
  const sshd = spawn(path, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  sshd.stderr!.setEncoding('utf8').on('data', (c: string) => { log += c })
  t.teardown(() => { sshd.kill('SIGKILL') })
  await waitFor(() => /Server listening on/.test(log) || sshd.exitCode !== null, 'sshd to listen')
  if (sshd.exitCode !== null) throw new Error(`sshd exited: ${log}`)
  return port
}

function sshArgs(dir: string, keys: TestKeys, servePort: number, command: string): string[] {
  const proxy = `${process.execPath} ${BIN} connect -q 127.0.0.1:${servePort} --key ${keys.client} --server-key ${keys.serverPK}`
  return ['-F', '/dev/null', '-i', join(dir, 'id_ed25519'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'HostKeyAlias=tunnel-test',
    '-o', `ProxyCommand=${proxy}`, 'root@tunnel-test', command]
}

/** ssh with `input` on stdin; resolves with its exit code and stdout. */
function ssh(args: string[], input: Buffer): Promise<{ code: number | null, stdout: Buffer, stderr: string }> {
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let err = ''
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
  child.stdin.end(input)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise(resolve => child.once('close', code => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: err }) }))
}

t.test('ssh with `secure-pipe connect` as ProxyCommand reaches sshd through serve', { skip: skip() }, async t => {
  const dir = tempDir(t)
  const keys = makeKeys(dir)
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')])
  const sshdPort = await startSshd(t, dir, join(dir, 'id_ed25519.pub'))
  writeFileSync(join(dir, 'known_hosts'), `tunnel-test ${readFileSync(join(dir, 'host_key.pub'), 'utf8')}`)
  const serve = await startServe(t, keys, sshdPort)

  const hello = await ssh(sshArgs(dir, keys, serve.port, 'echo hello from sshd'), Buffer.alloc(0))
  t.equal(hello.code, 0, hello.stderr)
  t.equal(hello.stdout.toString(), 'hello from sshd\n')

  const up = randomBytes(8 * 1024 * 1024)
  const hashed = await ssh(sshArgs(dir, keys, serve.port, 'sha256sum; head -c 8388608 /dev/zero'), up)
  t.equal(hashed.code, 0, hashed.stderr)
  const text = hashed.stdout.subarray(0, 68).toString()
  t.equal(text, `${sha256(up)}  -\n`, '8 MiB up through ssh, byte for byte')
  t.same(hashed.stdout.subarray(68), Buffer.alloc(8 * 1024 * 1024), '8 MiB down')

  await waitFor(() => (serve.proc.stderr().match(/: tunnel .*, closed$/gm) ?? []).length === 2, 'a clean log line per ssh session')
  t.notMatch(serve.proc.stderr(), /ERR_/, 'no failure logged')
})
