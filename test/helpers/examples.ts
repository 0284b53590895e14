/**
 * Running the scripts in examples/ as a user would (`node examples/X.mjs` from the package root,
 * importing the package by its name), for the tests in test/examples/.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** The package root (these helpers run from build/test/helpers/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export const run = promisify(execFile)

/** Run a file with node from the package root; its stdout lines. */
export async function example(file: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, [file], { cwd: ROOT, timeout: 60_000 })
  return stdout.trim().split('\n')
}
