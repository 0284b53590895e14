/**
 * Running the scripts in examples/ as a user would (`node examples/X.mjs` from the package root,
 * importing the package by its name), for the tests in test/examples/.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { nodeCommand } from './cli.js'

/** The package root (these helpers run from build/test/helpers/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const execFileAsync = promisify(execFile)

/** Run node with `args` from the package root as a user would: without tap's hook (nodeCommand). */
export function run(args: string[], opts: { cwd: string, timeout: number }): Promise<{ stdout: string, stderr: string }> {
  const [command, argv] = nodeCommand(args)
  return execFileAsync(command, argv, { ...opts, encoding: 'utf8' })
}

/** Run a file with node from the package root; its stdout lines. */
export async function example(file: string): Promise<string[]> {
  const { stdout } = await run([file], { cwd: ROOT, timeout: 60_000 })
  return stdout.trim().split('\n')
}
