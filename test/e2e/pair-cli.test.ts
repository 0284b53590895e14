/**
 * issue 19: `secure-pipe pair` through the real CLI with two key homes on 127.0.0.1: pairing,
 * then a transfer with no other step (both ways too), and a wrong code, which ends both sides
 * with ERR_AUTH (exit 3) and writes nothing.
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256File, tempDir, waitFor, waitForListening, writeRandomFile, type CliProcess } from '../helpers/cli.js'
import { identity, okIn, runIn, startIn } from '../helpers/home.js'

/** Start `pair --listen` in `home`; its port and code once printed. */
async function listenPair(t: Parameters<typeof okIn>[0], home: string): Promise<{ p: CliProcess, port: number, code: string, out: () => string }> {
  const p = startIn(t, home, ['pair', '--listen', '127.0.0.1:0'])
  let out = ''
  p.child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  const port = await waitForListening(p)
  await waitFor(() => /pairing code: \S+/.test(out), 'the code line')
  return { p, port, code: /pairing code: (\S+)/.exec(out)![1]!, out: () => out }
}

async function twoHomes(t: Parameters<typeof okIn>[0]): Promise<{ dir: string, r: string, s: string }> {
  const dir = tempDir(t)
  const r = join(dir, 'receiver-home')
  const s = join(dir, 'sender-home')
  await Promise.all([okIn(t, r, ['init', '--bits', '2048']), okIn(t, s, ['init', '--bits', '2048'])])
  return { dir, r, s }
}

t.test('issue 19: pair, then send/recv with no other step; both print the fingerprint and the lines they wrote', async t => {
  const { dir, r, s } = await twoHomes(t)
  const [rid, sid] = await Promise.all([identity(t, r), identity(t, s)])
  const listener = await listenPair(t, r)
  t.match(listener.code, /^\d{1,2}-[a-z]+-[a-z]+$/, 'a code such as 7-crate-swoop')
  t.match(listener.out(), `secure-pipe pair 127.0.0.1:${listener.port} ${listener.code}`, 'it says what to run on the other machine')
  const paired = await okIn(t, s, ['pair', `127.0.0.1:${listener.port}`, listener.code])
  const done = await listener.p.done
  t.equal(done.code, 0, done.stderr)
  const sOut = paired.stdout.toString()
  const rOut = listener.out()
  t.match(sOut, `paired: recorded ${rid.fp}`, 'S prints R\'s fingerprint')
  t.match(rOut, `paired: recorded ${sid.fp}`, 'R prints S\'s fingerprint')
  const pinLine = /wrote to .*known_peers:\n {2}(.+)\n/.exec(sOut)![1]!
  const authLine = /wrote to .*authorized_keys:\n {2}(.+)\n/.exec(rOut)![1]!
  t.ok(readFileSync(join(s, 'known_peers'), 'utf8').split('\n').includes(pinLine), 'S printed the exact line in known_peers')
  t.ok(readFileSync(join(r, 'authorized_keys'), 'utf8').split('\n').includes(authLine), 'R printed the exact line in authorized_keys')
  t.equal(pinLine, `127.0.0.1 ${rid.line}`, 'S pinned R\'s id line for the host')
  t.equal(authLine, sid.line, 'R authorized S\'s id line')

  const input = join(dir, 'report.pdf')
  const hash = await writeRandomFile(input, 200_000)
  const recv = startIn(t, r, ['recv', '--listen', '127.0.0.1:0', join(dir, 'received.pdf')])
  const port = await waitForListening(recv)
  const sent = await runIn(t, s, ['send', '--connect', `127.0.0.1:${port}`, input])
  t.equal(sent.code, 0, sent.stderr)
  t.equal((await recv.done).code, 0)
  t.equal(await sha256File(join(dir, 'received.pdf')), hash, 'the file arrived intact')
})

t.test('issue 19: --both-ways, then the other direction works too (the former listener sends)', async t => {
  const { dir, r, s } = await twoHomes(t)
  const listener = await listenPair(t, r)
  await okIn(t, s, ['pair', `127.0.0.1:${listener.port}`, listener.code, '--both-ways'])
  t.equal((await listener.p.done).code, 0)
  const input = join(dir, 'back.bin')
  const hash = await writeRandomFile(input, 50_000)
  const recv = startIn(t, s, ['recv', '--listen', '127.0.0.1:0', join(dir, 'got.bin')])
  const port = await waitForListening(recv)
  const sent = await runIn(t, r, ['send', '--connect', `127.0.0.1:${port}`, input])
  t.equal(sent.code, 0, sent.stderr)
  t.equal((await recv.done).code, 0)
  t.equal(await sha256File(join(dir, 'got.bin')), hash)
})

t.test('issue 19: a wrong code: both exit 3 with ERR_AUTH and nothing is written; a code with an unknown word is refused before connecting', async t => {
  const { r, s } = await twoHomes(t)
  const listener = await listenPair(t, r)
  const typo = await runIn(t, s, ['pair', `127.0.0.1:${listener.port}`, '7-crate-swoopx'])
  t.equal(typo.code, 2, 'a word not in the list: usage error')
  t.match(typo.stderr, /is not a word of pairing codes.*\(ERR_USAGE\)\n$/)
  const [n, ...words] = listener.code.split('-')
  const wrong = `${(Number(n) % 99) + 1}-${words.join('-')}`
  const bad = await runIn(t, s, ['pair', `127.0.0.1:${listener.port}`, wrong])
  const done = await listener.p.done
  t.equal(bad.code, 3, bad.stderr)
  t.match(bad.stderr, /\(ERR_AUTH\)\n$/)
  t.equal(done.code, 3, done.stderr)
  t.match(done.stderr, /\(ERR_AUTH\)\n$/)
  for (const home of [r, s]) {
    t.notOk(existsSync(join(home, 'authorized_keys')), `${home}: no authorized_keys`)
    t.notOk(existsSync(join(home, 'known_peers')), `${home}: no known_peers`)
  }
})
