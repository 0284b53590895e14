/**
 * What cut transfers left in an output directory (SPEC 8.6, issue 17): resumable partial files
 * (`.NAME.ID.partial`, kept for the sender that wrote them), temporary files of a receiver that
 * was killed (the same shape), and notes of who wrote a file (`.NAME.ID.done`) whose file is
 * gone. A drop box's operator sees the partial files at start and clears those older than an age.
 * The walk never follows a link and stops after MAX_LOOKED_AT names.
 *
 * @example const found = await findLeftovers('inbox'); await clearLeftovers(found, 7 * 86_400_000)
 */
import { lstat, readdir, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ownPartial, partialsInUse } from './atomic-file.js'

/** Names looked at, at most, in one walk of an output directory. */
export const MAX_LOOKED_AT = 100_000
const PARTIAL = /^\..+\.[0-9a-f]{12,16}\.partial$/
const NOTE = /^\.(.+)\.[0-9a-f]{16}\.done$/

/** One leftover file. */
export interface Leftover { path: string, size: number, mtimeMs: number, kind: 'partial' | 'orphan-note' }

/** What `findLeftovers` found; `complete` is false when it stopped at MAX_LOOKED_AT names. */
export interface Leftovers { partials: Leftover[], notes: Leftover[], complete: boolean }

/** Every partial or temporary file under `root`, and every note whose file is gone; regular files of ours only. */
export async function findLeftovers(root: string, limit = MAX_LOOKED_AT): Promise<Leftovers> {
  const found: Leftovers = { partials: [], notes: [], complete: true }
  const stack = [root]
  let looked = 0
  while (stack.length > 0) {
    const dir = stack.pop()!
    const names = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const d of names) {
      if (++looked > limit) { found.complete = false; return found }
      const path = join(dir, d.name)
      if (d.isDirectory()) { stack.push(path); continue }
      if (!d.isFile()) continue
      const note = NOTE.exec(d.name)
      if (!PARTIAL.test(d.name) && !note) continue
      const st = await lstat(path).catch(() => undefined)
      if (st === undefined || !ownPartial(st)) continue
      const one = { path, size: st.size, mtimeMs: st.mtimeMs }
      if (!note) found.partials.push({ ...one, kind: 'partial' })
      else if (await lstat(join(dir, note[1]!)).then(() => false, () => true)) found.notes.push({ ...one, kind: 'orphan-note' })
    }
  }
  return found
}

/** Remove the leftovers last changed more than `olderThanMs` ago (and not in use by a transfer now); returns those removed. */
export async function clearLeftovers(found: Leftovers, olderThanMs: number, now = Date.now()): Promise<Leftover[]> {
  const removed: Leftover[] = []
  for (const l of [...found.partials, ...found.notes]) {
    if (now - l.mtimeMs < olderThanMs || partialsInUse.has(l.path)) continue
    const st = await lstat(l.path).catch(() => undefined)
    if (st === undefined || !ownPartial(st) || now - st.mtimeMs < olderThanMs) continue // changed meanwhile: a transfer writes it
    await unlink(l.path).then(() => removed.push(l), () => {})
  }
  return removed
}

/** The final name a partial file belongs to, for a message (its NAME may be shortened, SPEC 8.6). */
export function partialOf(path: string): string {
  return join(dirname(path), basename(path).replace(/^\./, '').replace(/\.[0-9a-f]{12,16}\.partial$/, ''))
}
