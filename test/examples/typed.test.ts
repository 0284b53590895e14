/**
 * What is documented is executed: examples/typed.ts, compiled in strict mode against the published types, runs here as a user would run it, and its output is checked.
 */
import t from 'tap'
import { example, ROOT, run } from '../helpers/examples.js'

t.test('examples/typed.ts compiles in strict mode against build/src/index.d.ts and runs', async t => {
  await run(['node_modules/typescript/bin/tsc', '-p', 'examples/tsconfig.json'], { cwd: ROOT, timeout: 120_000 })
  t.same(await example('build/examples/typed.js'), ['11 bytes from an authorized key', 'refused: ERR_AUTH'])
})
