/**
 * `npm run demo` (issue 3): the whole path a user takes, through the real CLI.
 * Creates keys/server.pem, keys/serverPK.pem, keys/client.pem and keys/clientPK.pem with
 * `secure-pipe keygen` when missing, starts `secure-pipe recv` on a free port (read from its
 * `listening on` line), sends a generated 64 MiB file with `secure-pipe send`, and checks the
 * SHA-256 on both ends. Run from the package root (where keys/ lives).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/secure-pipe.js', import.meta.url)) // from build/scripts/
const SIZE = 64 * 1024 * 1024

interface Exit { code: number | null, stderr: string }

function cli(args: string[], echo: boolean): { child: ChildProcess, stderr: () => string, done: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'inherit', 'pipe'] })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; if (echo) process.stderr.write(c) })
  const done = new Promise<Exit>(resolve => child.once('close', code => resolve({ code, stderr: err })))
  return { child, stderr: () => err, done }
}

async function ensureKeys(): Promise<void> {
  for (const name of ['server', 'client']) {
    if (existsSync(join('keys', `${name}.pem`)) && existsSync(join('keys', `${name}PK.pem`))) {
      console.log(`keys/${name}.pem and keys/${name}PK.pem exist; using them`)
      continue
    }
    console.log(`$ secure-pipe keygen --name ${name}`)
    const r = await cli(['keygen', '--name', name], true).done
    if (r.code !== 0) throw new Error(`keygen failed with exit ${r.code}`)
  }
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
  throw new Error(`recv did not start listening: ${p.stderr()}`)
}

async function main(): Promise<number> {
  await ensureKeys()
  const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-demo-'))
  try {
    const src = join(dir, 'input.bin')
    const dst = join(dir, 'output.bin')
    const sent = await writeRandom(src, SIZE)
    console.log(`generated ${src} (64 MiB), SHA-256 ${sent}`)
    console.log(`$ secure-pipe recv --listen 127.0.0.1:0 ${dst}`)
    const recv = cli(['recv', '--listen', '127.0.0.1:0', dst], true)
    const port = await waitForPort(recv)
    console.log(`$ secure-pipe send --connect 127.0.0.1:${port} ${src}`)
    const send = await cli(['send', '--connect', `127.0.0.1:${port}`, src], true).done
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
