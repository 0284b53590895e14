/**
 * Where `recv` writes, checked before it listens (issue 17 section 6), so a mistake costs no
 * transfer: a directory is created when asked for (`--output-dir DIR`, or `DIR/` with its slash),
 * a FILE's directory must exist, and the directory must be writable: a read-only file system or
 * a missing permission is named as such, not as "it does not exist".
 */
import { constants } from 'node:fs'
import { access, mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ioError, shellQuote, UsageError } from '../index.js'

/**
 * Create `path` and its missing parents, one at a time: Node's recursive mkdir reports ENOENT
 * where the real cause is EROFS or EACCES, and the user must see the real cause.
 */
export async function makeDirectory(path: string, what: string): Promise<void> {
  const create = async (dir: string): Promise<void> => {
    const st = await stat(dir).catch(() => undefined)
    if (st?.isDirectory()) return
    if (st) throw new UsageError(`cannot create ${what} ${path}: ${dir} exists and is not a directory`)
    if (dirname(dir) !== dir) await create(dirname(dir))
    await mkdir(dir).catch(err => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, `cannot create ${what} ${path}`)
    })
  }
  await create(path)
  await checkWritable(path, what)
}

/** access(2) W_OK answers EROFS on a read-only file system and EACCES without permission. */
export async function checkWritable(dir: string, what: string): Promise<void> {
  await access(dir, constants.W_OK | constants.X_OK).catch(err => { throw ioError(err, `cannot receive into ${what} ${dir}`) })
}

/** FILE's directory must exist (nothing creates it), and be writable. */
export async function checkFileDirectory(file: string): Promise<void> {
  const dir = dirname(file)
  const st = await stat(dir).catch(() => undefined)
  if (!st?.isDirectory()) {
    throw new UsageError(`cannot receive into ${file}: the directory ${dir} does not exist; create it first (mkdir -p ${shellQuote(dir)}), or, to receive into a new directory, end its name with / (recv NEWDIR/)`)
  }
  await checkWritable(dir, 'the directory')
}
