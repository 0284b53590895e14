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
