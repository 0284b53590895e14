/**
 * issue 17 section 4, F5, SPEC 8.6: in a shared drop box, a second authorized key that knows a
 * file's name, size and mtime must not learn anything of its content from `send --resume`. It
 * once confirmed `PIN=4821` in 22 guesses: the receiver offered the other key's complete file,
 * and a right guess exited 0 while a wrong one was refused. Now a complete file (or link) is
 * offered only to the key that wrote it, as partial files already were: the attacker's Ready
 * carries no offer, a right and a wrong guess get the same refusal, and the file is untouched.
 */
import t from 'tap'
import { copyFileSync, mkdirSync, readFileSync, lutimesSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ByteQueue, connect, encodeManifest, loadPrivateKey, loadPublicKey, takeReady } from '../../src/index.js'
import { connectArgs, makeKeys, spawnCli, tempDir, waitForListening, type CliResult } from '../helpers/cli.js'
import { setMtimeMs, summaryOf } from '../helpers/transfer.js'

const dir = tempDir(t, 'secure-pipe-oracle-')
const keys = makeKeys(join(dir, 'keys'))
/** Both clients are authorized: the drop box's owner key (`client`) and the attacker (`other`). */
const authorized = join(dir, 'authorized')
mkdirSync(authorized)
copyFileSync(keys.clientPK, join(authorized, 'client.pem'))
copyFileSync(keys.otherPK, join(authorized, 'other.pem'))
const MTIME = 1_600_000_000_000
const SECRET = 'PIN=4821\n'
const inbox = join(dir, 'inbox')
mkdirSync(inbox)

/** `send --resume FILE` as `key` into a one-shot `recv inbox` that authorizes both keys. */
async function send(key: 'client' | 'other', path: string, flags: string[] = []): Promise<{ send: CliResult, recv: CliResult }> {
  const recv = spawnCli(t, ['recv', '--listen', '127.0.0.1:0', '--key', keys.server, '--authorized', authorized, inbox])
  const port = await waitForListening(recv)
  const args = connectArgs(keys, port)
  args[args.indexOf('--key') + 1] = key === 'client' ? keys.client : keys.other
  const s = await spawnCli(t, ['send', ...args, '--resume', ...flags, path]).done
  return { send: s, recv: await recv.done }
}

/** A file `pin.txt` with `content`, dated MTIME, in a fresh directory. */
function guess(content: string, n: number): string {
  mkdirSync(join(dir, `g${n}`))
  const path = join(dir, `g${n}`, 'pin.txt')
  writeFileSync(path, content)
  setMtimeMs(path, MTIME)
  return path
}

/** The refusal with what differs from run to run (ports, fingerprints, temp paths) taken out. */
function shape(r: CliResult): string {
  return r.stderr.replace(/127\.0\.0\.1:\d+/g, 'ADDR').replace(/SHA256:\S+/g, 'FP')
}

t.test('F5: the owner\'s file is written; its own --resume still finds it complete', async t => {
  const first = await send('client', guess(SECRET, 0))
  t.equal(first.send.code, 0, first.send.stderr)
  const again = await send('client', guess(SECRET, 1))
  t.equal(again.send.code, 0, again.send.stderr)
  t.equal(summaryOf(again.send.stderr, 'sent')?.bytes, 0, 'the writer is offered its complete file: 0 bytes moved')
})

t.test('F5: another authorized key gets no offer for that file in Ready, also from a recv --force (SPEC 8.3, 8.6)', async t => {
  // --force: an existing file is no refusal, so the receiver answers with Ready; the test stops there.
  const recv = spawnCli(t, ['recv', '--force', '--listen', '127.0.0.1:0', '--key', keys.server, '--authorized', authorized, inbox])
  const port = await waitForListening(recv)
  const s = await connect({ host: '127.0.0.1', port, privateKey: loadPrivateKey(keys.other), serverPublicKey: loadPublicKey(keys.serverPK) })
  const q = new ByteQueue()
  s.on('error', () => {})
  const entries = [{ type: 'file' as const, name: 'pin.txt', mode: 0o600, mtimeMs: MTIME, size: SECRET.length }]
  const offers = new Promise<unknown>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      q.push(c)
      try { const o = takeReady(q, entries, true); if (o !== null) resolve(o) } catch (err) { reject(err) }
    })
    s.once('close', () => resolve('closed'))
  })
  s.write(encodeManifest(entries, { resume: true }))
  const got = await offers
  t.same(got, [], 'Ready carries no offer for the other key\'s file')
  s.destroy()
  await recv.done
  t.equal(readFileSync(join(inbox, 'pin.txt'), 'utf8'), SECRET, 'untouched')
})

t.test('F5: a right and a wrong guess by another key get the same refusal; the file is untouched', async t => {
  const before = statSync(join(inbox, 'pin.txt'))
  const right = await send('other', guess(SECRET, 2))
  const wrong = await send('other', guess('PIN=0000\n', 3))
  for (const [what, r] of [['right', right], ['wrong', wrong]] as const) {
    t.equal(r.send.code, 2, `the ${what} guess: send exits 2 (ERR_USAGE), not 0`)
    t.notMatch(r.send.stderr, /receipt verified/, `the ${what} guess is never confirmed`)
    t.match(r.send.stderr, /pin\.txt already exists/, `the ${what} guess is told the file exists, as without --resume`)
  }
  t.equal(shape(right.send), shape(wrong.send), 'the two refusals are the same text')
  t.equal(readFileSync(join(inbox, 'pin.txt'), 'utf8'), SECRET, 'the owner\'s file is untouched')
  t.equal(statSync(join(inbox, 'pin.txt')).ino, before.ino, 'and not replaced')
})

t.test('F5: a complete file with no note of who wrote it (placed by hand, or by a plain send) is offered to nobody', async t => {
  writeFileSync(join(inbox, 'byhand.txt'), SECRET)
  setMtimeMs(join(inbox, 'byhand.txt'), MTIME)
  mkdirSync(join(dir, 'h'))
  const path = join(dir, 'h', 'byhand.txt')
  writeFileSync(path, SECRET)
  setMtimeMs(path, MTIME)
  const r = await send('client', path)
  t.equal(r.send.code, 2, 'refused as an existing file')
  t.match(r.send.stderr, /byhand\.txt already exists/)
})


t.test('F5: a link written by one key is not confirmed to another that guesses its target', async t => {
  const tree = (target: string, n: number): string => {
    const root = join(dir, `l${n}`, 'links')
    mkdirSync(root, { recursive: true })
    symlinkSync(target, join(root, 'where'))
    lutimesSync(join(root, 'where'), MTIME / 1000, MTIME / 1000) // one resume identity: same name, target length and mtime
    return root
  }
  const owner = await send('client', tree('/srv/secret-place', 0), ['--links'])
  t.equal(owner.send.code, 0, owner.send.stderr)
  const again = await send('client', tree('/srv/secret-place', 1), ['--links'])
  t.equal(again.send.code, 0, `the writer's own resume counts the link as done: ${again.send.stderr}`)
  const right = await send('other', tree('/srv/secret-place', 2), ['--links'])
  const wrong = await send('other', tree('/srv/elsewhere!!!', 3), ['--links'])
  for (const r of [right, wrong]) {
    t.equal(r.send.code, 2, 'refused (ERR_USAGE), not 0')
    t.match(r.send.stderr, /where already exists/)
  }
  t.equal(shape(right.send), shape(wrong.send), 'the same refusal for a right and a wrong guess')
  t.equal(readlinkSync(join(inbox, 'links', 'where')), '/srv/secret-place', 'the link is untouched')
})
