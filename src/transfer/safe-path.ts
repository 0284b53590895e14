/**
 * Which names a receiver accepts (SPEC 8.2), as pure functions: a name from the wire is a
 * relative '/'-separated path with no way out of the output directory. The disk side of the
 * same rule (no symbolic link on the way) is `receive-disk.ts`.
 *
 * @example checkManifest(manifest) // throws ProtocolError naming the entry and the rule
 */
import { ProtocolError } from '../errors.js'
import { MAX_COMPONENT_BYTES, MAX_NAME_BYTES, type Entry, type Manifest } from './entry.js'

/** SPEC 8.2, 8.6: the receiver's own temporary and resumable partial files, which no entry may name. */
const TEMPORARY_NAME = /(^|\/)\.[^/]*\.[0-9a-f]{12,16}\.(partial|done)$/i

/** Why `name` is refused (SPEC 8.2), or null when it is safe. */
export function nameProblem(name: string): string | null {
  if (name === '') return 'is empty'
  if (name.includes('\0')) return 'contains a NUL byte'
  if (name.includes('\\')) return 'contains a backslash'
  if (name.startsWith('/')) return 'is absolute'
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes`
  for (const part of name.split('/')) {
    if (part === '') return 'has an empty component'
    if (part === '.' || part === '..') return `has a "${part}" component`
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) return `has a component longer than ${MAX_COMPONENT_BYTES} bytes`
  }
  if (TEMPORARY_NAME.test(name)) return 'has the shape of the receiver\'s temporary, partial and resume files (.NAME.HEX.partial, .NAME.HEX.done)'
  return null
}

/** A name as a message shows it: quoted, control characters escaped (a hostile name must not drive the terminal). */
export function showName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name).replace(/[\u007f-\u009f]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * `sha256sum`'s line for a name: a name with a backslash or a control character is escaped
 * (`\\`, `\n`, `\xHH`) and the line starts with a backslash, as `sha256sum` does for newlines.
 */
export function sha256Line(hex: string, name: string): string {
  if (!/[\\\u0000-\u001f\u007f-\u009f]/.test(name)) return `${hex}  ${name}`
  const escaped = name.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, c => c === '\\' ? '\\\\' : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return `\\${hex}  ${escaped}`
}

/** SPEC 8.1 and 8.2: every entry of the manifest, and the manifest as a whole. Throws ProtocolError. */
export function checkManifest(manifest: Manifest): void {
  const { entries } = manifest
  // Every listed name, by its own string (no copy): duplicates are found as they are added.
  const listed = new Map<string, Entry>()
  entries.forEach((entry, i) => {
    if (entry.type === 'stream') {
      if (entries.length !== 1) throw new ProtocolError(`entry ${i} is a nameless stream, which must be the only entry (SPEC 8.1)`)
      if (entry.name !== '' || entry.size !== 0) throw new ProtocolError('a stream entry must have an empty name and size 0 (SPEC 8.1)')
      return
    }
    const problem = nameProblem(entry.name)
    if (problem) throw new ProtocolError(`the sender's entry ${i} name ${showName(entry.name)} ${problem}; refused before writing anything (SPEC 8.2)`)
    if (entry.type === 'directory' && entry.size !== 0) throw new ProtocolError(`directory entry ${showName(entry.name)} declares ${entry.size} content bytes (SPEC 8.1)`)
    if (entry.type === 'symlink' && (entry.size < 1 || entry.size > MAX_NAME_BYTES)) throw new ProtocolError(`symlink entry ${showName(entry.name)} declares a ${entry.size}-byte target (1 to ${MAX_NAME_BYTES}, SPEC 8.1)`)
    if (listed.has(entry.name)) throw new ProtocolError(`the sender listed ${showName(entry.name)} twice; refused before writing anything (SPEC 8.2)`)
    listed.set(entry.name, entry)
  })
  // Each entry's ancestors must be directories: walk up to the first one listed or already
  // passed, so each unlisted directory is visited once and the whole check stays linear.
  const passed = new Set<string>()
  for (const entry of entries) {
    for (let cut = entry.name.lastIndexOf('/'); cut > 0; cut = entry.name.lastIndexOf('/', cut - 1)) {
      const dir = entry.name.slice(0, cut)
      const above = listed.get(dir)
      if (above !== undefined) {
        if (above.type !== 'directory') throw new ProtocolError(`entry ${showName(entry.name)} lies inside ${showName(above.name)}, which the sender lists as a ${above.type} (SPEC 8.2)`)
        break
      }
      if (passed.has(dir)) break
      passed.add(dir)
    }
  }
}

/** Directory names an entry needs on its way, shallowest first (`a/b/c` -> `a`, `a/b`). */
export function parentNames(name: string): string[] {
  const out: string[] = []
  for (let cut = name.indexOf('/'); cut >= 0; cut = name.indexOf('/', cut + 1)) out.push(name.slice(0, cut))
  return out
}
