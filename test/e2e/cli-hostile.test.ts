/**
 * issue 8 section 3, SPEC 2.2, 5.3, 5.4, 6: hostile records sent with no delay after the
 * handshake (in the same write as ServerFinished, or right after it) to every CLI mode. Each
 * run ends with the documented exit code and one line on stderr (no stack trace, no "Unhandled
 * 'error' event"); FILE never appears and no temporary file is left; `recv --keep-open` goes
 * on serving the next honest client.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadPrivateKey, loadPublicKey } from '../../src/index.js'
import { connectArgs, listenArgs, makeKeys, sha256, sha256File, spawnCli, tempDir, waitFor, waitForListening, type CliResult, type Teardown } from '../helpers/cli.js'
import { ATTACKS, attackBytes, clientSession, expectedCode, serverSession, type Attack, type HostileSession } from '../helpers/hostile.js'
import type { TapTest } from '../helpers/streams.js'

const dir = tempDir(t)
const files = makeKeys(dir)
const asClient = { privateKey: loadPrivateKey(files.client), serverPublicKey: loadPublicKey(files.serverPK) }
const asServer = { privateKey: loadPrivateKey(files.server), authorizedKeys: [loadPublicKey(files.clientPK)] }

/** Everything on stderr but the "listening on" line must be exactly one line ending in `(code)`. */
function oneErrorLine(t: TapTest, r: CliResult, code: string, what: string): void {
  const lines = r.stderr.split('\n').filter(l => l !== '' && !/^listening on /.test(l))
  t.equal(lines.length, 1, `${what}: one line on stderr: ${JSON.stringify(r.stderr)}`)
  t.match(lines[0] ?? '', new RegExp(`^secure-pipe: .+ \\(${code}\\)$`), `${what}: ${code}`)
  t.notMatch(r.stderr, /Unhandled|\n\s+at /, `${what}: no stack trace`)
}

/** A fresh directory per case; after the run it must hold nothing (no FILE, no temporary file). */
function caseDir(attack: Attack, mode: string): string {
  const d = join(dir, `${mode}-${attack}`.replace(/[^a-z0-9-]/gi, '_'))
  mkdirSync(d)
  return d
}

/** The sender's exit code: a receiver that cut the connection may not have the data (5); any other fault is 4. */
function senderExpectation(attack: Attack): { exit: number, code: string } {
  return attack === 'cut-before-close' ? { exit: 5, code: 'ERR_NETWORK' } : { exit: 4, code: expectedCode(attack) }
}

/** Run `fn` over every attack, `width` at a time (bounded: 12 cases). */
async function eachAttack(fn: (attack: Attack) => Promise<void>, width = 3): Promise<void> {
  const queue = [...ATTACKS]
  await Promise.all(Array.from({ length: width }, async () => {
    for (let a = queue.shift(); a; a = queue.shift()) await fn(a)
  }))
}

/** The hostile side as a client: connect once the CLI listens, attack, and hold the socket until the CLI exits. */
async function attackListener(t: TapTest & Teardown, args: string[], attack: Attack, stdin?: Buffer): Promise<CliResult> {
  const cli = spawnCli(t, args, { stdin: stdin ? 'pipe' : 'ignore' })
  if (stdin) { cli.child.stdin!.on('error', () => {}); cli.child.stdin!.end(stdin) }
  let peer: HostileSession | undefined
  try {
    peer = await clientSession(await waitForListening(cli), asClient, keys => attackBytes(attack, keys))
  } catch { /* the CLI may hang up first: its result says what happened */ }
  const r = await cli.done
  peer?.socket.destroy()
  return r
}

/** The hostile side as the server: the CLI connects, gets ServerFinished and the attack in one write. */
async function attackConnector(t: TapTest & Teardown, args: (port: number) => string[], attack: Attack, stdin?: Buffer): Promise<CliResult> {
  const server = await serverSession(asServer, keys => attackBytes(attack, keys))
  t.teardown(() => server.close())
  const cli = spawnCli(t, args(server.port), { stdin: stdin ? 'pipe' : 'ignore' })
  if (stdin) { cli.child.stdin!.on('error', () => {}); cli.child.stdin!.end(stdin) }
  const r = await cli.done
  server.close()
  return r
}

t.test('issue 8, SPEC 5.4, 6: recv FILE (listening): every attack right after ServerFinished is exit 4, one line, no FILE', async t => {
  await eachAttack(async attack => {
    const d = caseDir(attack, 'recv-listen')
    const r = await attackListener(t, ['recv', ...listenArgs(files), join(d, 'out.bin')], attack)
    t.equal(r.code, 4, `${attack}: exit 4`)
    oneErrorLine(t, r, expectedCode(attack), attack)
    t.same(readdirSync(d), [], `${attack}: no FILE, no temporary file`)
  })
})

t.test('issue 8, SPEC 5.4, 6: recv --connect FILE: every attack in the same write as ServerFinished is exit 4, one line, no FILE', async t => {
  await eachAttack(async attack => {
    const d = caseDir(attack, 'recv-connect')
    const r = await attackConnector(t, port => ['recv', ...connectArgs(files, port), join(d, 'out.bin')], attack)
    t.equal(r.code, 4, `${attack}: exit 4`)
    oneErrorLine(t, r, expectedCode(attack), attack)
    t.same(readdirSync(d), [], `${attack}: no FILE, no temporary file`)
  })
})

t.test('issue 8, SPEC 5.4, 6, 8: send --connect: every attack in the same write as ServerFinished fails with its documented code, one line', async t => {
  await eachAttack(async attack => {
    const r = await attackConnector(t, port => ['send', ...connectArgs(files, port), '-'], attack, randomBytes(1000))
    const want = senderExpectation(attack)
    t.equal(r.code, want.exit, `${attack}: exit ${want.exit}`)
    oneErrorLine(t, r, want.code, attack)
  })
})

t.test('issue 8, SPEC 5.4, 6, 8: send --listen: every attack right after ServerFinished fails with its documented code, one line', async t => {
  await eachAttack(async attack => {
    const r = await attackListener(t, ['send', ...listenArgs(files), '-'], attack, randomBytes(1000))
    const want = senderExpectation(attack)
    t.equal(r.code, want.exit, `${attack}: exit ${want.exit}`)
    oneErrorLine(t, r, want.code, attack)
  })
})

t.test('issue 8, SPEC 5.4, 6: recv --keep-open logs one line per attack, keeps no file, and serves the next honest client', async t => {
  const inbox = join(dir, 'inbox')
  const server = spawnCli(t, ['recv', ...listenArgs(files), '--keep-open', '--output-dir', inbox])
  const port = await waitForListening(server)
  await eachAttack(async attack => {
    const peer = await clientSession(port, asClient, keys => attackBytes(attack, keys))
    let closed = false
    void peer.hungUp.then(() => { closed = true })
    await waitFor(() => closed, `the server to hang up on ${attack}`)
  })
  // Authorized peers that complete the handshake and then drop at once, or are reset (an on-path RST).
  ;(await clientSession(port, asClient)).socket.destroy()
  ;(await clientSession(port, asClient)).socket.resetAndDestroy()
  await waitFor(() => (server.stderr().match(/transfer from .* failed/g) ?? []).length === ATTACKS.length + 2, 'one failure line per attack')
  t.equal(server.child.exitCode, null, 'still serving')
  t.same(readdirSync(inbox), [], 'no file and no temporary file from any attack')

  const honest = randomBytes(200_000)
  const send = spawnCli(t, ['send', ...connectArgs(files, port), '-'], { stdin: 'pipe' })
  send.child.stdin!.end(honest)
  const s = await send.done
  t.equal(s.code, 0, s.stderr)
  const got = readdirSync(inbox)
  t.equal(got.length, 1, 'the honest transfer arrived')
  t.equal(await sha256File(join(inbox, got[0]!)), sha256(honest), 'intact')

  server.child.kill('SIGTERM')
  const end = await server.done
  t.equal(end.code, 143)
  t.notMatch(end.stderr, /Unhandled|\n\s+at /, 'no stack trace in the server log')
  for (const attack of ATTACKS) t.ok(end.stderr.includes(`(${expectedCode(attack)})`), `${attack} logged as ${expectedCode(attack)}`)
  t.notOk(existsSync(join(inbox, 'out.bin')))
})
