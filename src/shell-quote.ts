/**
 * Quote a path for a shell command line when it needs it, so a message's `chmod 600 FILE` can be
 * pasted as it is.
 *
 * @example shellQuote('my key.pem') // "'my key.pem'"
 */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`
}
