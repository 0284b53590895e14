#!/usr/bin/env node
// Re-render benchmarks/RESULTS.md from the raw numbers of the last run (benchmarks/tmp/last-results.json),
// after a change to lib/report.js: the figures stay those of that run.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderReport } from './lib/report.js'
import { BENCH } from './lib/tools.js'

const from = process.argv[2] || join(BENCH, 'tmp', 'last-results.json')
const out = process.argv[3] || join(BENCH, 'RESULTS.md')
writeFileSync(out, renderReport(JSON.parse(readFileSync(from, 'utf8'))))
process.stderr.write(`render: wrote ${out} from ${from}\n`)
