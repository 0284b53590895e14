/**
 * Documentation cannot rot (issue 12): every README code block that names an example file on its
 * first line (`// examples/NAME`) must be that file, byte for byte; the example files themselves
 * run in test/examples/*.test.ts. And every file in examples/ is shown in the README.
 */
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/examples.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```(?:js|ts|mjs)\n(\/\/ (examples\/[\w.-]+)\n[\s\S]*?)```/g)].map(m => ({ file: m[2]!, body: m[1]! }))

t.test('README code blocks that name an example are that example, byte for byte', async t => {
  t.ok(blocks.length >= 2, `${blocks.length} blocks name an example`)
  for (const b of blocks) {
    const source = readFileSync(join(ROOT, b.file), 'utf8')
    t.equal(b.body, source.replace(/^(\/\/ )?.*\n/, `// ${b.file}\n`), b.file)
  }
})

t.test('every runnable example is shown or listed in the README', async t => {
  for (const f of readdirSync(join(ROOT, 'examples')).filter(n => /\.(mjs|ts)$/.test(n))) {
    t.ok(readme.includes(`examples/${f}`), f)
  }
})
