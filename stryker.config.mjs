// Mutation testing (`npm run mutate`, not part of `npm test`): Stryker's command runner over a
// fast test subset. MUTATE_SCOPE (handshake, record, framing, crypto, keys, server or transfer;
// set by scripts/mutate.ts) picks the folder to mutate and the tests that judge it (SUBSETS in
// scripts/mutation-tests.ts). MUTATE_FILES (comma-separated paths, `--files`) narrows the
// mutated files to a sample of that folder, judged by the same tests. Stryker writes every
// mutant into the TypeScript once (mutant switching), `buildCommand` compiles that with tsc once
// per run, and each mutant is then one run of the subset with __STRYKER_ACTIVE_MUTANT__ set.
const scope = process.env.MUTATE_SCOPE ?? 'handshake'
const files = (process.env.MUTATE_FILES ?? '').split(',').filter(Boolean)

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'command',
  coverageAnalysis: 'off',
  mutate: files.length ? files : [`src/${scope}/**/*.ts`],
  buildCommand: 'npx tsc -p tsconfig.json',
  commandRunner: { command: `node build/scripts/mutation-tests.js ${scope}` },
  // A shared 2-core machine: more workers only make each mutant's timeout more likely.
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 2),
  // Error messages are text for people, not checks: their mutants only cost a full run each.
  // (SPEC's byte strings, the labels and magic, live in src/constants.ts, outside the mutated folders.)
  mutator: { excludedMutations: ['StringLiteral'] },
  timeoutFactor: 2,
  timeoutMS: 20_000,
  ignorePatterns: ['build', 'coverage', '.tap', 'reports', 'docs/api', 'benchmarks/tmp'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${scope}.html` },
  jsonReporter: { fileName: `reports/mutation/${scope}.json` },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}
