/**
 * Operating-system error codes as words a user can act on (issue 10): `EISDIR` or `EEXIST` never
 * reach the terminal on their own.
 *
 * @example errnoSentence({ code: 'EISDIR' }) // 'it is a directory'
 */
import { IoError, SecurePipeError } from './errors.js'

const SENTENCES: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it already exists',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files: raise the limit (ulimit -n) or run fewer transfers at once',
  ENFILE: 'too many open files on the system',
  EBUSY: 'it is busy',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links in the path',
  EIO: 'an input/output error on the device',
  EXDEV: 'it is on another file system',
}

export function errnoSentence(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code && SENTENCES[code]) return SENTENCES[code]
  return code ? `the operating system reported ${code}` : String((err as Error | undefined)?.message ?? err)
}

/** An IoError whose message says what failed and why in words (`cannot write out.bin: no space left on the device`). */
export function ioError(err: unknown, what: string): IoError {
  if (err instanceof SecurePipeError) return err instanceof IoError ? err : new IoError(`${what}: ${err.message}`, { cause: err })
  return new IoError(`${what}: ${errnoSentence(err)}`, { cause: err })
}
