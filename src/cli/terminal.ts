/**
 * `recv` never pours binary into a terminal by accident (issue 10): with stdout on a TTY it
 * needs an explicit `-` (yargs hands it over as '') or --force.
 */
import { UsageError } from '../index.js'

export function refuseTerminalOutput(args: { file?: string, force?: boolean }): void {
  const explicitStdout = args.file === '' || args.file === '-'
  if (args.file !== undefined && !explicitStdout) return
  if (!process.stdout.isTTY || explicitStdout || args.force === true) return
  throw new UsageError('stdout is a terminal: name a FILE, redirect the output (> FILE or | command), or give - to print the data here anyway')
}

/**
 * `send` with no path reads stdin; on a terminal that would wait for typing and then send
 * whatever was typed (issue 17 section 6). Refused unless `-` asks for it explicitly.
 */
export function refuseTerminalInput(args: { dash?: boolean }): void {
  if (!process.stdin.isTTY || args.dash === true) return
  throw new UsageError('stdin is a terminal and no file was named: name the files to send, pipe the data in (command | secure-pipe send ...), or give - to type it here (end with Ctrl-D)')
}
