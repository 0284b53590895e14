/**
 * Pairing codes (SPEC 14.1): `N-word-word`, N from 1 to 99 and two words of the EFF short
 * wordlist, drawn uniformly from node:crypto. 99 * 1295^2 codes: 27.3 bits, so one online
 * guess (all an attacker gets per code, SPEC 14.6) succeeds with probability 6e-9.
 *
 * @example newPairingCode() // '7-crate-swoop'
 */
import { randomBelow } from '../crypto/random.js'
import { UsageError } from '../errors.js'
import { WORDS } from './wordlist.js'

/** The code's number is 1 to CODE_NUMBERS. */
export const CODE_NUMBERS = 99
/** Words after the number. */
export const CODE_WORDS = 2
/** log2 of the number of codes. */
export const CODE_BITS = Math.log2(CODE_NUMBERS) + CODE_WORDS * Math.log2(WORDS.length)

const WORD_SET = new Set(WORDS)

/** A fresh code; `draw` (a uniform integer below its argument) is a test seam. */
export function newPairingCode(draw: (n: number) => number = randomBelow): string {
  const words = Array.from({ length: CODE_WORDS }, () => WORDS[draw(WORDS.length)]!)
  return [String(1 + draw(CODE_NUMBERS)), ...words].join('-')
}

/**
 * The canonical form of a typed code (SPEC 14.1): lower case, words separated by one `-`
 * (spaces, `_` and runs of `-` accepted), the number without leading zeros. A code that cannot
 * be one (a word not in the list, say) is `ERR_USAGE`, refused before any connection, so a
 * typo never uses up the listener's one attempt.
 */
export function normalizeCode(text: string): string {
  const parts = text.trim().toLowerCase().split(/[\s_-]+/).filter(p => p !== '')
  const [number, ...words] = parts
  const n = Number(number)
  if (parts.length !== 1 + CODE_WORDS || !/^\d{1,3}$/.test(number ?? '') || !(n >= 1 && n <= CODE_NUMBERS)) {
    throw new UsageError(`'${printable(text)}' is not a pairing code: it is a number and ${CODE_WORDS} words, such as 7-crate-swoop, as \`secure-pipe pair --listen\` printed it`)
  }
  const unknown = words.find(w => !WORD_SET.has(w))
  if (unknown !== undefined) throw new UsageError(`'${printable(unknown)}' is not a word of pairing codes: check the code \`secure-pipe pair --listen\` printed`)
  return [String(n), ...words].join('-')
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)
}
