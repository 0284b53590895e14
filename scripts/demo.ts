/**
 * `npm run demo` (issues 3, 10): the whole path a user takes, through the real CLI, on two
 * throwaway key homes standing in for two machines (never the user's own home): `init` on each,
 * `pair --listen` on the receiver and `pair` with its code on the sender (issue 19), then
 * `recv --listen` on a free port (read from its `listening on` line) and `send --connect` of a
 * generated 64 MiB file, checking the SHA-256 on both ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/secure-pipe.js', import.meta.url)) // from build/scripts/
const SIZE = 64 * 1024 * 1024

interface Exit { code: number | null, stdout: string, stderr: string }

/** Run the CLI with `home` as its key home; stdout is collected, stderr echoed. */
function cli(home: string, args: string[]): { child: ChildProcess, stdout: () => string, stderr: () => string, done: Promise<Exit> } {
  console.log(`[${home.replace(/.*-/, '')}] $ secure-pipe ${args.join(' ')}`)
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SECURE_PIPE_HOME: home } })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; process.stdout.write(c) })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; process.stderr.write(c) })
  const done = new Promise<Exit>(resolve => child.once('close', code => resolve({ code, stdout: out, stderr: err })))
  return { child, stdout: () => out, stderr: () => err, done }
}

async function ok(home: string, args: string[]): Promise<string> {
  const r = await cli(home, args).done
  if (r.code !== 0) throw new Error(`secure-pipe ${args[0]} failed with exit ${r.code}`)
  return r.stdout
}

/**
 * Two homes that know each other, as the README's quick start leaves two machines: `init` on
 * each, then `pair --listen` on the receiver and `pair 127.0.0.1:PORT CODE` on the sender with
 * the code it printed. How long the pairing took, end to end, is printed.
 */
async function setUpHomes(dir: string): Promise<{ sender: string, receiver: string }> {
  const sender = join(dir, 'home-sender')
  const receiver = join(dir, 'home-receiver')
  for (const home of [sender, receiver]) await ok(home, ['init', '--bits', '2048'])
  const started = performance.now()
  const listener = cli(receiver, ['pair', '--listen', '127.0.0.1:0'])
  const port = await waitForPort(listener)
  const code = await waitForCode(listener)
  await ok(sender, ['pair', `127.0.0.1:${port}`, code])
  const r = await listener.done
  if (r.code !== 0) throw new Error(`pair --listen failed with exit ${r.code}`)
  console.log(`paired in ${((performance.now() - started) / 1000).toFixed(2)} s, end to end (both processes' start included)`)
  return { sender, receiver }
}

async function waitForCode(p: ReturnType<typeof cli>): Promise<string> {
  for (let i = 0; i < 1500; i++) {
    const m = /pairing code: (\S+)/.exec(p.stdout())
    if (m) return m[1]!
    if (p.child.exitCode !== null) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`pair --listen printed no code: ${p.stderr()}`)
}

async function writeRandom(path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const ws = createWriteStream(path)
  for (let left = size; left > 0; left -= 1024 * 1024) {
    const chunk = randomBytes(Math.min(left, 1024 * 1024))
    hash.update(chunk)
    if (!ws.write(chunk)) await once(ws, 'drain')
  }
  ws.end()
  await once(ws, 'close')
  return hash.digest('hex')
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function waitForPort(p: ReturnType<typeof cli>): Promise<number> {
  for (let i = 0; i < 1500; i++) {
    const m = /listening on \S+:(\d+)/.exec(p.stderr())
    if (m) return Number(m[1])
    if (p.child.exitCode !== null) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`no 'listening on' line: ${p.stderr()}`)
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-demo-'))
  try {
    const homes = await setUpHomes(dir)
    const src = join(dir, 'input.bin')
    const dst = join(dir, 'output.bin')
    const sent = await writeRandom(src, SIZE)
    console.log(`generated ${src} (64 MiB), SHA-256 ${sent}`)
    const recv = cli(homes.receiver, ['recv', '--listen', '127.0.0.1:0', dst])
    const port = await waitForPort(recv)
    const send = await cli(homes.sender, ['send', '--connect', `127.0.0.1:${port}`, src]).done
    const got = await recv.done
    if (send.code !== 0 || got.code !== 0) throw new Error(`transfer failed: send exit ${send.code}, recv exit ${got.code}`)
    const received = await sha256File(dst)
    console.log(`SHA-256 sent     ${sent}\nSHA-256 received ${received}`)
    if (received !== sent) throw new Error('the SHA-256 values differ')
    console.log('demo ok: 64 MiB moved through the real CLI, receipt verified, hashes equal')
    return 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(code => { process.exitCode = code }, err => {
  console.error(`demo failed: ${(err as Error).message}`)
  process.exitCode = 1
})
