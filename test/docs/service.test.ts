/**
 * issue 19 §4: the systemd unit of docs/operations.md is the file docs/secure-pipe-recv.service
 * (and .socket), systemd-analyze accepts them without a warning, they hold the sandbox the doc
 * promises, and socket activation works: recv started with an inherited listening socket
 * (LISTEN_PID, LISTEN_FDS=1, fd 3) serves a transfer on it.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import { BIN, connectArgs, makeKeys, ROOT, sha256, sha256File, spawnCli, tempDir, type CliProcess } from '../helpers/cli.js'
import { inheritedSocket } from '../../src/cli/socket-activation.js'

const DOCS = join(ROOT, 'docs')
const UNITS = ['secure-pipe-recv.service', 'secure-pipe-recv.socket']

t.test('issue 19 §4: docs/operations.md includes each unit file exactly', async t => {
  const doc = readFileSync(join(DOCS, 'operations.md'), 'utf8')
  for (const unit of UNITS) {
    const m = new RegExp(`<!-- include: ${unit.replace(/\./g, '\\.')} -->\\n\`\`\`ini\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc)
    t.ok(m, `${unit} is included`)
    t.equal(m?.[1], readFileSync(join(DOCS, unit), 'utf8'), `the copy in operations.md is ${unit}`)
  }
})

t.test('issue 19 §4: the service runs as its own user with its own key home, restarts on failure, sandboxed', async t => {
  const unit = readFileSync(join(DOCS, 'secure-pipe-recv.service'), 'utf8')
  const lines = new Set(unit.split('\n').map(l => l.trim()))
  for (const want of ['User=secure-pipe', 'Environment=SECURE_PIPE_HOME=/var/lib/secure-pipe/home', 'Restart=on-failure', 'SuccessExitStatus=143',
    'ProtectSystem=strict', 'ReadWritePaths=/var/lib/secure-pipe', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'ProtectHome=yes', 'CapabilityBoundingSet=', 'UMask=0077']) {
    t.ok(lines.has(want), want)
  }
  t.match(unit, /^ExecStart=\/usr\/bin\/secure-pipe recv --keep-open .*--output-dir \/var\/lib\/secure-pipe\/inbox$/m, 'recv --keep-open into the inbox under ReadWritePaths')
  t.notMatch(unit, /^MemoryDenyWriteExecute=yes/m, 'not MemoryDenyWriteExecute: Node\'s JIT would not start')
})

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' })
const noAnalyze = analyze.error ? `systemd-analyze is not installed here (${(analyze.error as NodeJS.ErrnoException).code ?? 'error'}); .ci/run installs it where apt-get exists` : false

t.test('issue 19 §4: systemd-analyze verify accepts the units without a warning', { skip: noAnalyze }, async t => {
  const dir = tempDir(t)
  // verify checks that ExecStart's program exists: point it at this checkout's CLI, nothing else changed.
  const service = readFileSync(join(DOCS, UNITS[0]!), 'utf8').replace('ExecStart=/usr/bin/secure-pipe ', `ExecStart=${process.execPath} ${BIN} `)
  writeFileSync(join(dir, UNITS[0]!), service)
  writeFileSync(join(dir, UNITS[1]!), readFileSync(join(DOCS, UNITS[1]!)))
  const r = spawnSync('systemd-analyze', ['verify', ...UNITS.map(u => join(dir, u))], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  t.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warning (an unknown key or a bad value is only a warning)')
})

t.test('issue 19 §4: sd_listen_fds: only for this pid, one socket, variables removed once read', async t => {
  t.equal(inheritedSocket({}, 42), undefined, 'not activated')
  const other = { LISTEN_PID: '41', LISTEN_FDS: '1' }
  t.equal(inheritedSocket(other, 42), undefined, 'another process\'s variables')
  t.same(other, { LISTEN_PID: '41', LISTEN_FDS: '1' }, 'left alone')
  const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '1', LISTEN_FDNAMES: 'x', PATH: '/bin' }
  t.equal(inheritedSocket(env, 42), 3)
  t.same(env, { PATH: '/bin' }, 'LISTEN_* removed')
  t.throws(() => inheritedSocket({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42), { code: 'ERR_USAGE', message: /exactly one/ })
  t.equal(inheritedSocket({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42), undefined)
})

t.test('issue 19 §4: socket activation: recv serves a transfer on the listening socket it inherits as fd 3', async t => {
  const keys = makeKeys(tempDir(t))
  const inbox = tempDir(t)
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  const port = (holder.address() as { port: number }).port
  const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd
  // What systemd does: the socket at fd 3, LISTEN_PID the service's own pid (sh's, kept by exec).
  // --listen names another port: the inherited socket takes its place.
  const child = spawn('sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, BIN, 'recv', '--listen', '127.0.0.1:1', '--key', keys.server, '--authorized', keys.clientPK, '--json', inbox], {
    stdio: ['ignore', 'pipe', 'pipe', fd],
    env: { ...process.env, SECURE_PIPE_HOME: join(tempDir(t), 'home') },
  })
  holder.close() // the child holds its own copy of the socket
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c })
  const exited = once(child, 'close')
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  t.teardown(() => { clearTimeout(timer); child.kill('SIGKILL') })

  const file = join(tempDir(t), 'payload.bin')
  const data = randomBytes(100_000)
  writeFileSync(file, data)
  const sender: CliProcess = spawnCli(t, ['send', ...connectArgs(keys, port), file])
  const sent = await sender.done
  const [code] = await exited as [number | null]
  t.equal(sent.code, 0, sent.stderr)
  t.equal(code, 0, err)
  t.equal(await sha256File(join(inbox, 'payload.bin')), sha256(data))
  const listening = out.split('\n').filter(Boolean).map(l => JSON.parse(l) as { event: string, port?: number }).find(e => e.event === 'listening')
  t.match(listening, { event: 'listening', port }, 'listening on the inherited socket\'s port, not --listen\'s')
})
