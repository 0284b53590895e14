/**
 * What each stress scenario gets (issue 5): keys, a temporary root, teardown in reverse order,
 * checks that mark the run failed, and figures for the closing table. Not a test framework:
 * the scenarios run one after another, each under a deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeKeys, type Teardown, type TestKeys } from '../helpers/cli.js'
import { loadKeys, within, type PeerKeys } from './peers.js'

export interface Ctx extends Teardown {
  name: string
  /** Key files (for the CLI) and the same keys loaded (for the library). */
  keys: TestKeys
  peer: PeerKeys
  /** A fresh directory for this scenario, removed afterwards. */
  dir: string
  /** Record a pass/fail line; a failure fails the run. */
  check(ok: boolean, what: string): boolean
  /** A measured figure for the closing table. */
  figure(name: string, value: string): void
  note(text: string): void
}

export interface Outcome { name: string, failed: number, checks: number, figures: Array<[string, string]>, error?: Error, seconds: number }

export type Scenario = (ctx: Ctx) => Promise<void>

/** The running scenario's teardowns, for `emergencyTeardown`. */
let current: Array<() => void | Promise<void>> = []

/**
 * Last resort before exiting on the global deadline: start every teardown of the running
 * scenario without waiting (kills and unmounts are issued synchronously).
 */
export function emergencyTeardown(): void {
  for (const fn of current.reverse()) {
    try { void Promise.resolve(fn()).catch(() => {}) } catch { /* exiting anyway */ }
  }
}

/** Run one scenario under `deadlineMs`; teardown runs whatever happened. */
export async function runScenario(name: string, scenario: Scenario, shared: { keys: TestKeys, peer: PeerKeys, root: string }, deadlineMs: number): Promise<Outcome> {
  const teardowns: Array<() => void | Promise<void>> = []
  current = teardowns
  const outcome: Outcome = { name, failed: 0, checks: 0, figures: [], seconds: 0 }
  const dir = mkdtempSync(join(shared.root, `${name}-`))
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }))
  const ctx: Ctx = {
    name, dir, keys: shared.keys, peer: shared.peer,
    teardown: fn => { teardowns.push(fn) },
    check(ok, what) {
      outcome.checks++
      if (!ok) outcome.failed++
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`)
      return ok
    },
    figure(figure, value) {
      outcome.figures.push([figure, value])
      console.log(`  ==> ${figure}: ${value}`)
    },
    note: text => console.log(`  ${text}`),
  }
  console.log(`\n## ${name}`)
  const started = performance.now()
  try {
    await within(scenario(ctx), deadlineMs, `scenario ${name}`)
  } catch (err) {
    outcome.error = err as Error
    outcome.failed++
    console.log(`  FAIL ${name} threw: ${(err as Error).stack ?? err}`)
  }
  for (const fn of teardowns.reverse()) {
    try { await within(Promise.resolve(fn()), 30_000, 'teardown') } catch (err) { console.log(`  teardown: ${(err as Error).message}`) }
  }
  outcome.seconds = (performance.now() - started) / 1000
  return outcome
}

/** Keys shared by every scenario (2048-bit, the fastest SPEC 3.7 allows), under a temporary root. */
export function sharedSetup(): { keys: TestKeys, peer: PeerKeys, root: string, cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'secure-pipe-stress-'))
  const keys = makeKeys(mkdtempSync(join(root, 'keys-')))
  return { keys, peer: loadKeys(keys), root, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

/** Settle all, in parallel; returns how many were fulfilled and the codes (or messages) of the rest. */
export async function tally<T>(promises: Array<Promise<T>>): Promise<{ ok: T[], errors: string[] }> {
  const results = await Promise.allSettled(promises)
  const ok: T[] = []
  const errors: string[] = []
  for (const r of results) {
    if (r.status === 'fulfilled') ok.push(r.value)
    else errors.push((r.reason as { code?: string })?.code ?? String((r.reason as Error)?.message ?? r.reason))
  }
  return { ok, errors }
}

/** `{ A: 3, B: 1 }` as `A x3, B x1`. */
export function counts(items: readonly string[]): string {
  const m = new Map<string, number>()
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1)
  return [...m].map(([k, v]) => `${k} x${v}`).join(', ') || 'none'
}
