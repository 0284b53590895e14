#!/usr/bin/env node
// The `secure-pipe` command; the CLI is compiled from src/cli/ into build/ by `npm ci` (prepare).
import { setFlagsFromString } from 'node:v8'
// Issue 11: V8's young generation stays at its initial 1 MiB per semi-space instead of growing
// to 16 MiB. A record's buffers then die in the next scavenge rather than waiting, promoted or
// not, for a full collection, which V8 starts only after 64 MB of such garbage: peak RSS of a
// bulk transfer drops by 5-15 MB at no measurable CPU cost. The library leaves V8 alone; this is
// the command's own tuning. Only on the V8 it was measured on (Node 20's 11.x): V8 prints an
// error for a flag it does not know, and its flag names are its own to change.
if (process.versions.v8.startsWith('11.')) setFlagsFromString('--semi-space-growth-factor=1')
import('../build/src/cli/main.js').then(cli => cli.run(), err => {
  const unbuilt = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('build/src/cli/main.js')
  process.stderr.write(unbuilt ? 'secure-pipe: the CLI is not built; run `npm ci` or `npm run build` first (ERR_UNEXPECTED)\n' : `${err?.stack ?? err}\n`)
  process.exitCode = 1
})
