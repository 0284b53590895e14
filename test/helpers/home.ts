/**
 * Running the real CLI against a key home (issue 10): each call sets SECURE_PIPE_HOME, so tests
 * never touch the user's own home. Also: whether ssh-keygen is on this machine.
 */
import { spawnSync } from 'node:child_process'
import { spawnCli, type CliProcess, type CliResult, type Teardown } from './cli.js'

export function startIn(t: Teardown, home: string, args: string[], opts: { cwd?: string, stdin?: string } = {}): CliProcess {
  const p = spawnCli(t, args, { env: { SECURE_PIPE_HOME: home }, stdin: opts.stdin === undefined ? 'ignore' : 'pipe', ...(opts.cwd ? { cwd: opts.cwd } : {}) })
  if (opts.stdin !== undefined) p.child.stdin!.end(opts.stdin)
  return p
}

export function runIn(t: Teardown, home: string, args: string[], opts: { cwd?: string, stdin?: string } = {}): Promise<CliResult> {
  return startIn(t, home, args, opts).done
}

/** What `okIn` needs of a tap Test (the subtest type is not exported by name). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Checks = Teardown & { equal: (...args: any[]) => unknown }

/** Run and check exit 0. */
export async function okIn(t: Checks, home: string, args: string[]): Promise<CliResult> {
  const r = await runIn(t, home, args)
  t.equal(r.code, 0, `secure-pipe ${args[0]}: ${r.stderr}`)
  return r
}

/** `id`: the line (stdout) and the fingerprint (stderr). */
export async function identity(t: Checks, home: string): Promise<{ line: string, fp: string }> {
  const r = await okIn(t, home, ['id'])
  return { line: r.stdout.toString().trim(), fp: /fingerprint: (SHA256:\S+)/.exec(r.stderr)![1]! }
}

export const HAS_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?']).error === undefined
export const HAS_SCRIPT = spawnSync('script', ['--version']).error === undefined
