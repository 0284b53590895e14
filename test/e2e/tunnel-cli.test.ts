/**
 * issue 20: the tunnel commands with the key home (init, authorize, pin) as `send` and `recv`
 * use it, and their usage errors: one sentence, exit 2, before any key is read.
 */
import t from 'tap'
import { join } from 'node:path'
import { runCli, tempDir, waitForListening } from '../helpers/cli.js'
import { identity, okIn, startIn } from '../helpers/home.js'
import { countingTarget } from '../helpers/tunnel.js'

t.test('serve and connect with the key home: authorize on one side, pin on the other', async t => {
  const dir = tempDir(t)
  const server = join(dir, 'server-home')
  const client = join(dir, 'client-home')
  await Promise.all([okIn(t, server, ['init', '--bits', '2048']), okIn(t, client, ['init', '--bits', '2048'])])
  const [s, c] = await Promise.all([identity(t, server), identity(t, client)])
  await okIn(t, server, ['authorize', c.line])
  await okIn(t, client, ['pin', '127.0.0.1', s.line])
  const target = await countingTarget(t, sock => { sock.pipe(sock) })
  const serve = startIn(t, server, ['serve', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${target.port}`])
  const port = await waitForListening(serve, 60_000)
  const r = await startIn(t, client, ['connect', `127.0.0.1:${port}`], { stdin: 'through the home keys' }).done
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), 'through the home keys', 'echoed both ways')
  t.match(r.stderr, `tunnel ${s.fp} from stdin to 127.0.0.1:${port}: 21 B up, 21 B down`, 'connect names the server by the fingerprint its `id` printed')
  t.match(serve.stderr(), `tunnel ${c.fp} from 127.0.0.1:`, 'serve names the client by its fingerprint')
})

const USAGE: Array<[string[], RegExp]> = [
  [['serve'], /serve needs --to HOST:PORT/],
  [['serve', '--to', '127.0.0.1:0'], /--to needs a port other than 0/],
  [['serve', '--to', '22', '--connect', 'h'], /serve listens \(--listen\)/],
  [['serve', '--to', '22', '--progress'], /--progress is for send and recv/],
  [['serve', '--to', '22', '--max-per-key', '0'], /--max-per-key expects a positive whole number/],
  [['serve', '--to', '22', '--max-connections', '1.5'], /--max-connections expects a positive whole number/],
  [['serve', '--to', '22', '--drain-timeout', '0'], /--drain-timeout expects a positive number of seconds/],
  [['forward', '--connect', 'h'], /forward needs --local \[ADDR:\]PORT/],
  [['forward', '--local', '1234'], /forward needs --connect HOST\[:PORT\]/],
  [['connect'], /connect needs 1 more argument/],
  [['connect', 'h', '--connect', 'g'], /connect takes the server as its argument/],
]

t.test('tunnel usage errors: one sentence, exit 2', async t => {
  for (const [args, message] of USAGE) {
    const r = await runCli(t, args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, message)
    t.match(r.stderr, /^secure-pipe: .*\(ERR_USAGE\)\n$/, 'one line')
  }
})
