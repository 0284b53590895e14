/** issue 5: `--max-handshakes` is the listening side's cap on concurrent handshakes (README Operations). */
import t from 'tap'
import { connectArgs, listenArgs, makeKeys, runCli, tempDir } from '../helpers/cli.js'

const keys = makeKeys(tempDir(t))

t.test('issue 5: --max-handshakes must be a positive whole number (exit 2, ERR_USAGE)', async t => {
  for (const bad of ['0', '-3', '1.5']) {
    const r = await runCli(t, ['recv', ...listenArgs(keys), '--max-handshakes', bad, '-'])
    t.equal(r.code, 2, `--max-handshakes ${bad}`)
    t.match(r.stderr, /\(ERR_USAGE\)\n$/)
  }
})

t.test('issue 5: --max-handshakes applies only when listening', async t => {
  const r = await runCli(t, ['send', ...connectArgs(keys, 9), '--max-handshakes', '4', '-'])
  t.equal(r.code, 2)
  t.match(r.stderr, /only when listening.*\(ERR_USAGE\)\n$/)
})
