/** `secure-pipe pins` (issue 10): list pinned peers, one `TARGET FINGERPRINT COMMENT` line each. */
import type { Argv } from 'yargs'
import { keyHome, listPins } from '../index.js'
import { printLines, printNote } from './visible.js'

export function pinsBuilder<T>(y: Argv<T>): Argv<T> {
  return y.example('$0 pins', 'the peers this machine knows, by HOST or HOST:PORT')
}

export function pins(): void {
  const home = keyHome()
  const entries = listPins(home)
  if (entries.length === 0) printNote(`no peer is pinned yet (${home.pins}); add one with \`secure-pipe pin HOST[:PORT] KEY\``)
  printLines(entries.map(e => `${e.target} ${e.fingerprint}${e.comment ? ' ' + e.comment : ''}`))
}
