/**
 * issue 17 section 5: text from a key file, a peer or the wire never reaches the terminal raw.
 * Escape-laden comments, pin targets, file names and refusal reasons go to every command that
 * prints them; no control byte (C0 but newline, DEL, C1) and no bidi or zero-width character
 * may appear in stdout or stderr, and the escaped form must (so the text is shown, not dropped).
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, runCli, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { okIn, runIn, type Checks } from '../helpers/home.js'
import { formatSshPublicKey, loadPublicKey } from '../../src/index.js'

/** OSC window title, erase line + cursor to column 1 + a fake line, C1 CSI, a bidi override, a zero-width space, DEL. */
const EVIL = 'x\x1b]0;owned\x07\x1b[2K\x1b[1Gfingerprint:SHA256:fake\x9b31m\u202eexe.txt\u200b\x7f'
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u

function clean(t: Checks, what: string, out: string): void {
  const bad = RAW.exec(out)
  t.equal(bad, null, `${what}: no raw control or bidi character${bad ? ` (found U+${bad[0].codePointAt(0)!.toString(16)} in ${JSON.stringify(out)})` : ''}`)
}

t.test('issue 17 s5: key comments and pin targets from files and pasted lines are printed escaped by every key command', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const home = join(dir, 'home')
  const line = formatSshPublicKey(loadPublicKey(k.clientPK), EVIL) // a key file keeps its comment on one line
  const file = join(dir, 'evil.pub')
  writeFileSync(file, line + '\n')
  const runs: [string, string[]][] = [
    ['authorize FILE', ['authorize', file]],
    ['authorize LINE', ['authorize', ...formatSshPublicKey(loadPublicKey(k.otherPK), EVIL + '2').split(' ')]],
    ['authorized', ['authorized']],
    ['pin', ['pin', '127.0.0.1', file]],
    ['pins', ['pins']],
    ['fingerprint', ['fingerprint', file]],
  ]
  for (const [what, args] of runs) {
    const r = await okIn(t, home, args)
    clean(t, what, r.stdout.toString() + r.stderr)
    if (what !== 'fingerprint' && what !== 'pin') t.match(r.stdout.toString(), '\\x1b]0;owned\\x07', `${what}: the comment is shown, escaped`)
  }
  // A pin list edited by hand with a hostile target and comment.
  writeFileSync(join(home, 'known_peers'), `h\x1b[8m0st ${line}\n`, { mode: 0o600 })
  const pins = await okIn(t, home, ['pins'])
  clean(t, 'pins (hand-edited)', pins.stdout.toString())
  t.match(pins.stdout.toString(), /^h\\x1b\[8m0st SHA256:/)
  const revoked = await okIn(t, home, ['revoke', EVIL])
  clean(t, 'revoke', revoked.stdout.toString() + revoked.stderr)
  t.match(revoked.stdout.toString(), '\\u202eexe.txt\\u200b')
  // Errors that quote a key file's text: an unknown key type, a missing name.
  writeFileSync(file, `ssh-\x1b[31med25519 AAAA ${EVIL}\n`)
  for (const [what, args] of [['fingerprint (bad type)', ['fingerprint', file]], ['authorize (bad type)', ['authorize', file]], ['revoke (missing)', ['revoke', EVIL]]] as const) {
    const r = await runIn(t, home, [...args])
    t.equal(r.code, 2, `${what} fails`)
    clean(t, what, r.stdout.toString() + r.stderr)
  }
})

t.test('issue 17 s5: names from the wire and the peer\'s refusal reasons are printed escaped by send and recv', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  const src = join(dir, 'src')
  const out = join(dir, 'out')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(src)
  mkdirSync(out)
  const name = EVIL
  writeFileSync(join(src, name), 'first')
  const recv = spawnCli(t, ['recv', ...listenArgs(k), '--sha256', out])
  const sent = await runCli(t, ['send', ...connectArgs(k, await waitForListening(recv)), '--sha256', join(src, name)])
  const got = await recv.done
  t.equal(sent.code, 0, sent.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(readFileSync(join(out, name), 'utf8'), 'first', 'the name itself is kept on disk')
  clean(t, 'send --sha256', sent.stderr + sent.stdout.toString())
  clean(t, 'recv --sha256', got.stderr + got.stdout.toString())
  t.match(got.stderr, '\\u202eexe.txt', 'recv shows the name escaped')

  // The same name again: the receiver refuses it (it exists) and sends its reason, naming it, to the sender.
  const again = spawnCli(t, ['recv', ...listenArgs(k), out])
  const refused = await runCli(t, ['send', ...connectArgs(k, await waitForListening(again)), join(src, name)])
  const end = await again.done
  t.not(refused.code, 0, 'the sender fails')
  t.not(end.code, 0, 'the receiver fails')
  clean(t, 'send (peer refusal reason)', refused.stderr)
  clean(t, 'recv (refusal)', end.stderr)
  t.match(refused.stderr, /already exists/, 'the sender shows the receiver\'s reason')
})
