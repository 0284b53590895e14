/**
 * Key lists that take effect while a server runs (issue 17 section 2): sshd reads
 * authorized_keys at each connection, so a revoked key is refused from the next one on. Parsing
 * at each connection would cost RSA key imports, so a stat of each file first (device, inode,
 * size, mtime and ctime in nanoseconds; for a directory, the same for each of its entries) tells
 * an unchanged list from a changed one, and only a changed one is read again.
 *
 * @example createServer({ privateKey, authorizedKeys: reloadOnChange(['peers.pub'], () => loadAuthorizedKeys('peers.pub')) })
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** What identifies one version of the files at `paths` without reading them; a missing file is `-`. */
export function fileSignature(paths: readonly string[]): string {
  return paths.map(path => {
    const own = statLine(path)
    if (!own.startsWith('d')) return own
    let names: string[]
    try { names = readdirSync(path).sort() } catch { return `${own}:unreadable` }
    return `${own}[${names.map(n => `${n}=${statLine(join(path, n))}`).join(',')}]` // one level: the key files of a directory
  }).join('|')
}

function statLine(path: string): string {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false })
  if (!st) return '-'
  return `${st.isDirectory() ? 'd' : 'f'}${st.dev}:${st.ino}:${st.mode}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
}

/**
 * Run `load` now (its error is thrown here), then return a function that runs it again only when
 * `fileSignature(paths)` changed since the last run; an unchanged list returns the same value
 * (so `createServer` reuses its index), an unchanged failing list throws the same error. The
 * signature is taken before each load, so a change during a load is seen at the next call.
 */
export function reloadOnChange<T>(paths: readonly string[], load: () => T): () => T {
  let signature = fileSignature(paths)
  let result: { value: T } | { error: unknown } = { value: load() }
  return () => {
    const now = fileSignature(paths)
    if (now !== signature) {
      signature = now
      try { result = { value: load() } } catch (error) { result = { error } }
    }
    if ('error' in result) throw result.error
    return result.value
  }
}
