/**
 * The disk side of SPEC 8.2 and 8.7: the output directory, and the directories under it that a
 * transfer creates or enters, each checked with `lstat` so that nothing is written through a
 * symbolic link or outside the directory. Names reaching here passed `checkManifest`.
 *
 * Its checks are synchronous calls (a few microseconds each on a local disk), made once per
 * entry: through libuv's thread pool each would cost more in hand-offs (issue 18: many files).
 *
 * @example const out = await OutputDir.open('inbox'); await out.ensureParents('photos/a.jpg'); out.pathOf('photos/a.jpg')
 */
import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { IoError, UsageError } from '../errors.js'
import { ioError } from '../errno.js'
import { parentNames, showName } from './safe-path.js'

export class OutputDir {
  readonly #checked = new Set<string>()
  /** Directories this transfer created, in creation order (their modes and mtimes come last). */
  readonly created: string[] = []

  private constructor(readonly root: string, readonly shown: string) {}

  /** The directory the user named (it may itself be a link: it is the user's choice); it must exist. */
  static async open(path: string): Promise<OutputDir> {
    const st = await stat(path).catch(err => { throw ioError(err, `cannot use output directory ${path}`) })
    if (!st.isDirectory()) throw new UsageError(`${path} is not a directory`)
    return new OutputDir(await realpath(path), path)
  }

  /** Where `name` lives on disk; `name` is already safe (SPEC 8.2). */
  pathOf(name: string): string {
    return name === '' ? this.root : join(this.root, ...name.split('/'))
  }

  /** What exists at `name` now, not following a link. */
  async existing(name: string): Promise<Stats | undefined> {
    try {
      return lstatSync(this.pathOf(name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw ioError(err, `cannot check ${this.pathOf(name)}`)
    }
  }

  /** Every directory above `name`, created 0700 where missing; a link or a non-directory on the way is refused (ERR_IO). */
  async ensureParents(name: string): Promise<void> {
    const cut = name.lastIndexOf('/')
    if (cut < 0 || this.#checked.has(name.slice(0, cut))) return // the usual case: a sibling's parent was checked
    for (const dir of parentNames(name)) await this.ensureDirectory(dir)
  }

  /** `name` as a directory: created 0700 if missing, else it must be a real directory. */
  async ensureDirectory(name: string): Promise<void> {
    if (this.#checked.has(name)) return
    await this.ensureParents(name)
    const path = this.pathOf(name)
    let st = await this.existing(name)
    if (st === undefined) {
      try {
        mkdirSync(path, { mode: 0o700 })
        this.created.push(name)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, `cannot create directory ${path}`)
      }
      st = await this.existing(name)
    }
    if (st?.isSymbolicLink()) throw new IoError(`${path} is a symbolic link; secure-pipe never writes through links, so ${showName(name)} was refused (remove the link or choose another directory)`)
    if (!st?.isDirectory()) throw new IoError(`${path} exists and is not a directory, so nothing can be written inside ${showName(name)}`)
    this.#checked.add(name)
  }

  /**
   * After a file was created in `name`'s directory: that directory's real path must be the one
   * expected, so a directory swapped for a link after it was checked is caught (SPEC 8.7).
   */
  async verifyParent(name: string): Promise<void> {
    const expected = dirname(this.pathOf(name))
    let real: string
    try { real = realpathSync.native(expected) } catch (err) { throw ioError(err, `cannot check ${expected}`) }
    if (real !== expected && !(real + sep).startsWith(this.root + sep)) throw new IoError(`${expected} now leads outside the output directory ${this.shown}; the transfer stopped`)
    if (real !== expected) throw new IoError(`${expected} changed into a link during the transfer; the transfer stopped`)
  }
}
