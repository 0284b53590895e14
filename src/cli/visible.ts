/**
 * The one sanitizer for text the CLI did not write itself (issue 17 section 5): a key's comment,
 * a pin's target, a name from the wire, a peer's refusal reason, an OS message. Every control
 * (C0, DEL, C1: ESC starts terminal sequences), format character (bidi overrides and isolates,
 * zero-width characters), line or paragraph separator and lone surrogate is shown as a visible
 * escape (`\x1b`, `\u202e`), so such text cannot set the window title, move the cursor, hide a
 * line or print a line of its own (a fake `fingerprint SHA256:...`). Every line the CLI prints
 * passes through `visible` (report.ts for errors and logs, `printLines` for command output).
 *
 * @example visible('bob\x1b]0;owned\x07') // 'bob\\x1b]0;owned\\x07'
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu

export function visible(text: string): string {
  return text.replace(UNSAFE, ch => {
    const c = ch.codePointAt(0)!
    if (c <= 0xff) return `\\x${c.toString(16).padStart(2, '0')}`
    return c <= 0xffff ? `\\u${c.toString(16).padStart(4, '0')}` : `\\u{${c.toString(16)}}`
  })
}

/** Write lines to stdout (a command's result), each made visible, each ending in a newline. */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map(l => visible(l) + '\n').join(''))
}

/** Write one line to stderr (a note or warning), made visible. */
export function printNote(line: string): void {
  process.stderr.write(visible(line) + '\n')
}
