/** What exists on this machine: external binaries, and the secure-pipe CLI and library. */
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cmd, run } from './proc.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BENCH = join(ROOT, 'benchmarks')
export const CLI = join(ROOT, 'bin', 'secure-pipe.js')
export const LIB = join(ROOT, 'build', 'src', 'index.js')

export async function which(name) {
  const r = await run(`command -v ${name}`, { timeoutMs: 5_000 })
  return r.code === 0 ? r.stdout.trim() : null
}

export async function findTools() {
  const [openssl, socat, time] = await Promise.all([which('openssl'), which('socat'), existsSync('/usr/bin/time') ? '/usr/bin/time' : which('time-not-builtin')])
  const versions = {}
  if (openssl) versions.openssl = (await run('openssl version', { timeoutMs: 5_000 })).stdout.trim()
  if (socat) versions.socat = ((await run('socat -V', { timeoutMs: 5_000 })).stdout.match(/socat version [^\n]*/) || [''])[0].replace(/ on .*/, '')
  return { openssl, socat, time: time || null, versions }
}

/** null when the secure-pipe CLI can run, else the reason it cannot. */
export async function cliMissing() {
  if (!existsSync(CLI)) return 'bin/secure-pipe.js is missing'
  if (!existsSync(join(ROOT, 'build', 'src'))) return 'build/ is missing (run `npx tsc -p .`)'
  const r = await run(cmd(process.execPath, CLI, '--help'), { timeoutMs: 20_000 })
  if (r.code !== 0) return `\`secure-pipe --help\` exits ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`
  const text = r.stdout + r.stderr
  for (const c of ['send', 'recv']) if (!text.includes(c)) return `\`secure-pipe --help\` lists no '${c}' command`
  return null
}

/** The library's public API, or { missing: reason }. */
export async function loadLibrary() {
  if (!existsSync(LIB)) return { missing: 'build/src/index.js is missing (library not built yet; run `npx tsc -p .`)' }
  try {
    const lib = await import(pathToFileURL(LIB).href)
    const need = ['connect', 'createServer', 'loadPrivateKey', 'loadPublicKey']
    const absent = need.filter((n) => typeof lib[n] !== 'function')
    if (absent.length) return { missing: `build/src/index.js does not export ${absent.join(', ')}` }
    return { lib }
  } catch (err) {
    return { missing: `importing build/src/index.js failed: ${err.message}` }
  }
}

export function listBuiltRecordModules() {
  const dir = join(ROOT, 'build', 'src', 'record')
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)) : []
}
