/** `secure-pipe authorized` (issue 10): list the keys allowed to connect, one `NAME FINGERPRINT` line each. */
import type { Argv } from 'yargs'
import { keyHome, listAuthorized } from '../index.js'
import { printLines, printNote } from './visible.js'

export function authorizedBuilder<T>(y: Argv<T>): Argv<T> {
  return y.example('$0 authorized', 'who may connect to this machine')
}

export function authorized(): void {
  const home = keyHome()
  const entries = listAuthorized(home)
  if (entries.length === 0) printNote(`no peer is authorized yet (${home.authorizedKeys}); add one with \`secure-pipe authorize KEY\``)
  printLines(entries.map(e => `${e.comment} ${e.fingerprint}`))
}
