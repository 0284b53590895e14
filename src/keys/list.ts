/**
 * Line-oriented key lists (issue 10), the shapes OpenSSH uses: `authorized_keys` holds
 * `ssh-rsa BASE64 NAME` lines, and the pin list holds `TARGET ssh-rsa BASE64 COMMENT` lines
 * like `known_hosts`. Blank lines and `#` comments are kept out; a bad line names its file and line.
 */
import type { KeyObject } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { formatSshPublicKey, parseSshPublicKey, sshFingerprint } from './openssh.js'
import { KeyError } from '../errors.js'
import { writeKeyFile } from './file.js'
import { shellQuote } from '../shell-quote.js'

/** One key in a list: `target` (pin lists only), the key and its comment (a name). */
export interface KeyEntry { target?: string, key: KeyObject, comment: string, fingerprint: string }

/** Whether lines start with a target (the pin list) or directly with the key (authorized_keys). */
export type ListKind = 'authorized' | 'pins'

export function parseKeyList(text: string, file: string, kind: ListKind): KeyEntry[] {
  const out: KeyEntry[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const what = `${file} line ${i + 1}`
    let target: string | undefined
    let rest = line
    if (kind === 'pins') {
      const sp = line.search(/\s/)
      if (sp < 0) throw new KeyError(`${what} has no key after its host`)
      target = line.slice(0, sp)
      rest = line.slice(sp).trim()
    }
    const { key, comment } = parseSshPublicKey(rest, what)
    out.push({ ...(target !== undefined ? { target } : {}), key, comment, fingerprint: sshFingerprint(key) })
  })
  return out
}

/**
 * Like ssh's StrictModes: a key list (or the directory holding it) that other users can write
 * would let them add their own key, so it is refused with the chmod that fixes it.
 */
export function checkNotWritableByOthers(path: string, fix: string): void {
  if (process.platform === 'win32') return
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st || (st.mode & 0o022) === 0) return
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
  throw new KeyError(`${path} can be changed by other users (mode ${mode}), who could add their own key: run ${fix} ${shellQuote(path)}`)
}

/** The list at `file`; a missing file is an empty list. */
export function readKeyList(file: string, kind: ListKind): KeyEntry[] {
  checkNotWritableByOthers(dirname(file), 'chmod 700')
  checkNotWritableByOthers(file, 'chmod 600')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new KeyError(`${file} cannot be read`, { cause: err })
  }
  return parseKeyList(text, file, kind)
}

/** Replace the list at `file` atomically (mode 0600, like ssh's own files). */
export function writeKeyList(file: string, entries: readonly KeyEntry[], header: string): void {
  const lines = entries.map(e => (e.target !== undefined ? `${e.target} ` : '') + formatSshPublicKey(e.key, e.comment))
  writeKeyFile(file, `# ${header}\n${lines.join('\n')}${lines.length ? '\n' : ''}`, { mode: 0o600, replace: true })
}
