#!/usr/bin/env node
// The `secure-pipe` command; the CLI is compiled from src/cli/ into build/ by `npm ci` (prepare).
import('../build/src/cli/main.js').then(cli => cli.run(), err => {
  const unbuilt = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('build/src/cli/main.js')
  process.stderr.write(unbuilt ? 'secure-pipe: the CLI is not built; run `npm ci` or `npm run build` first (ERR_UNEXPECTED)\n' : `${err?.stack ?? err}\n`)
  process.exitCode = 1
})
