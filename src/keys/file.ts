/**
 * Writing key files safely (issue 8 section 3, issue 10): the content goes to a temp file made
 * with exclusive create and its final mode in the same directory, is fsynced, then renamed over
 * the target (or linked, which refuses an existing name). A symlink at the target is replaced,
 * never followed, and no chmod ever runs on a file that already holds a key.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { KeyError } from '../errors.js'

let counter = 0

/** Options for writing one key file. */
export interface KeyFileWrite {
  /** File mode: 0o600 for private keys and key lists, 0o644 for a public key. */
  mode: number
  /** Replace an existing file; without it an existing name (even a dangling symlink) is ERR_KEY. */
  replace: boolean
}

/**
 * Write `data` to `path` atomically with `opts.mode`.
 *
 * @example writeKeyFile('home/identity', pem, { mode: 0o600, replace: false })
 */
export function writeKeyFile(path: string, data: string, opts: KeyFileWrite): void {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${counter++}.tmp`)
  // 'wx' is O_CREAT|O_EXCL: it never opens an existing file or follows a symlink planted at tmp.
  const fd = openSync(tmp, 'wx', opts.mode)
  try {
    try {
      writeSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (opts.replace) renameSync(tmp, path) // rename(2) replaces a symlink at path; it does not follow it
    else linkNew(tmp, path)
  } catch (err) {
    try { unlinkSync(tmp) } catch { /* already renamed or never created */ }
    throw err
  }
  syncDir(dir)
}

/** link(2) fails with EEXIST on any existing name, so two writers cannot both create `path`. */
function linkNew(tmp: string, path: string): void {
  try {
    linkSync(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyError(`${path} already exists; pass --force to overwrite it`, { cause: err })
    throw err
  }
  unlinkSync(tmp)
}

/** The rename is durable only once the directory entry is: fsync the directory (POSIX only). */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return
  const fd = openSync(dir, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
