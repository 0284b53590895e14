/**
 * The fuzz targets by name (issue 5) and how one is run: fast-check's `check` with a seed (and a
 * path, to replay a counterexample), counting outcomes. See judge.ts for the property,
 * handshake.ts and records.ts for the inputs.
 */
import fc from 'fast-check'
import type { FuzzKeys, Stats } from './judge.js'
import { arbHandshakePlan, describePlan, runClientTarget, runServerTarget, type HandshakePlan } from './handshake.js'
import { arbRecordPlan, describeRecordPlan, runRecordTarget, type RecordPlan } from './records.js'

export { runClientTarget, runServerTarget, runRecordTarget }
export type { FuzzKeys }

export type TargetName = 'server' | 'client' | 'records'
export const TARGETS: readonly TargetName[] = ['server', 'client', 'records']

/** The fast-check property of a target, and how to print one of its inputs. */
export function property(target: TargetName, keys: FuzzKeys, stats?: Stats): { prop: fc.IAsyncProperty<[HandshakePlan]> | fc.IAsyncProperty<[RecordPlan]>, describe(input: unknown): string } {
  switch (target) {
    case 'server': return { prop: fc.asyncProperty(arbHandshakePlan, p => runServerTarget(keys, p, stats)), describe: i => describePlan((i as [HandshakePlan])[0]) }
    case 'client': return { prop: fc.asyncProperty(arbHandshakePlan, p => runClientTarget(keys, p, stats)), describe: i => describePlan((i as [HandshakePlan])[0]) }
    case 'records': return { prop: fc.asyncProperty(arbRecordPlan, p => runRecordTarget(p, stats)), describe: i => describeRecordPlan((i as [RecordPlan])[0]) }
  }
}

export interface TargetResult { target: TargetName, failed: boolean, numRuns: number, seed: number, path: string | null, counterexample: string | null, error: string | null, stats: Stats, seconds: number }

/** Run one target for `runs` runs from `seed` (and `path`, to replay a counterexample). */
export async function fuzzTarget(target: TargetName, keys: FuzzKeys, opts: { runs: number, seed: number, path?: string }): Promise<TargetResult> {
  const stats: Stats = new Map()
  const { prop, describe } = property(target, keys, stats)
  const started = performance.now()
  const details = await fc.check(prop as fc.IAsyncProperty<[unknown]>, { numRuns: opts.runs, seed: opts.seed, ...(opts.path ? { path: opts.path } : {}) })
  const err = details.errorInstance as Error | null
  return {
    target,
    failed: details.failed,
    numRuns: details.numRuns,
    seed: details.seed,
    path: details.counterexamplePath,
    counterexample: details.counterexample ? describe(details.counterexample) : null,
    error: err ? `${err.message}${err.cause ? ` (cause: ${(err.cause as Error).stack ?? String(err.cause)})` : ''}` : null,
    stats,
    seconds: (performance.now() - started) / 1000,
  }
}
