/**
 * issue 19 §3: `send --retry N` reconnects after a network failure, a timeout or a cut and
 * resumes every file where the receiver's partial copy ends (SPEC 8.6); it never retries after
 * ERR_AUTH, ERR_KEY, ERR_USAGE or the receiver's refusal. Bytes on the wire are counted by a
 * small TCP proxy on 127.0.0.1 between the two ends.
 */
import t, { type Test } from 'tap'
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { once } from 'node:events'
import { join, relative } from 'node:path'
import { connectArgs, listenArgs, makeKeys, sha256File, spawnCli, tempDir, waitFor, waitForListening, writeRandomFile, type Teardown } from '../helpers/cli.js'
import { eventsNamed, parseEvents } from '../helpers/events.js'

/**
 * A TCP proxy that counts every byte it forwards, both ways, over all connections, reading
 * no faster than the other end takes them. With no
 * `target` it closes a new connection at once (the receiver is down). `hold()` freezes every
 * connection (no more bytes move), `cut()` closes them.
 */
interface CountingProxy { port: number, target: number | undefined, bytes: number, connections: number, hold(): void, cut(): void }

async function countingProxy(t: Teardown): Promise<CountingProxy> {
  const sockets = new Set<Socket>()
  let held = false
  const proxy: CountingProxy = {
    port: 0, target: undefined, bytes: 0, connections: 0,
    hold: () => { held = true; for (const s of sockets) s.pause() },
    cut: () => { for (const s of sockets) s.destroy(); sockets.clear(); held = false },
  }
  const server = createServer({ allowHalfOpen: true }, client => {
    proxy.connections++
    if (proxy.target === undefined) { client.destroy(); return }
    const upstream = createConnection({ host: '127.0.0.1', port: proxy.target, allowHalfOpen: true })
    sockets.add(client).add(upstream)
    // With backpressure: a proxy that read on while the receiver lagged would count bytes it only
    // buffered (under load, tens of MiB that die with the receiver and were never on the wire to it).
    const relay = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (held) return
        proxy.bytes += chunk.length
        if (!to.write(chunk)) from.pause()
      })
      to.on('drain', () => { if (!held) from.resume() })
    }
    relay(client, upstream)
    relay(upstream, client)
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    const kill = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', kill).on('close', kill)
    upstream.on('error', kill).on('close', kill)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy.port = (server.address() as { port: number }).port
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return proxy
}

/** Bytes in the files under `dir`, partial ones included. */
function bytesUnder(dir: string): number {
  let n = 0
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) n += statSync(join(f.parentPath, f.name)).size
  return n
}

/** Relative path -> SHA-256 of every file under `dir` (directories as 'dir'). */
async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (d: string): Promise<void> => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (/^\..*\.done$/.test(e.name)) continue // the receiver's resume notes (SPEC 8.6: this sender wrote the file); a .partial still counts
      if (e.isDirectory()) { out[relative(dir, p)] = 'dir'; await walk(p) } else out[relative(dir, p)] = await sha256File(p)
    }
  }
  await walk(dir)
  return out
}

/**
 * Send a tree through the counting proxy with `send --retry 5`; once the receiver holds
 * `fraction` of it on disk, kill the receiver (SIGKILL) and start a new one on the same directory.
 */
async function killMidTransfer(t: Test, fraction: number): Promise<void> {
  const keys = makeKeys(tempDir(t))
  const base = tempDir(t)
  const src = join(base, 'tree')
  mkdirSync(join(src, 'small'), { recursive: true })
  let total = 0
  // Large against the socket buffers (a few MiB on loopback, more under load), whose bytes die with the receiver: 96 MiB.
  for (const [name, size] of [['a.bin', 48 << 20], ['b.bin', 32 << 20], ['c.bin', 16 << 20]] as const) { await writeRandomFile(join(src, name), size); total += size }
  for (let i = 0; i < 20; i++) { await writeRandomFile(join(src, 'small', `s${i}.bin`), 10_000); total += 10_000 }
  const inbox = join(base, 'inbox')
  mkdirSync(inbox)

  const first = spawnCli(t, ['recv', ...listenArgs(keys), inbox])
  const proxy = await countingProxy(t)
  proxy.target = await waitForListening(first)
  const send = spawnCli(t, ['send', ...connectArgs(keys, proxy.port), '--retry', '5', '--json', src])
  // Mid-transfer, by what the receiver has on disk (bytes in socket buffers are lost with it, as in a crash):
  // freeze the connection, kill the receiver (SIGKILL: no cleanup), then cut.
  await waitFor(() => bytesUnder(inbox) >= total * fraction, `the receiver to hold ${fraction * 100} % of the tree`, 30_000)
  proxy.hold()
  proxy.target = undefined
  first.child.kill('SIGKILL')
  await first.done
  proxy.cut()
  t.ok(readdirSync(inbox, { recursive: true }).some(f => String(f).endsWith('.partial')), 'the killed receiver left a partial file')
  const second = spawnCli(t, ['recv', ...listenArgs(keys), inbox])
  proxy.target = await waitForListening(second)
  const sent = await send.done
  const got = await second.done
  t.equal(sent.code, 0, sent.stderr + String(sent.stdout).split("\n").filter((l: string) => /error|retry/.test(l)).join("\n"))
  t.equal(got.code, 0, 'the second receiver completes')
  t.same(await treeOf(join(inbox, 'tree')), await treeOf(src), 'an identical tree, no partial file left')

  const events = parseEvents(t, sent.stdout)
  const retries = eventsNamed(events, 'retry')
  t.ok(retries.length >= 1, `the cut was retried (${retries.length} retry events)`)
  t.match(retries[0], { attempt: 1, retries: 5, error: { code: 'ERR_NETWORK', exit: 5 } })
  const last = eventsNamed(events, 'plan').at(-1)!
  t.ok((last.resumedBytes as number) >= total * fraction, `the last attempt resumed ${String(last.resumedBytes)} bytes (at least the ${fraction * 100} % on disk)`)
  t.equal((last.bytes as number) + (last.resumedBytes as number), total, 'resumed + sent = the tree')
  t.match(events.at(-1), { event: 'summary', attempt: last.attempt, outcome: 'durable' })
  t.ok(events.every(e => typeof e.attempt === 'number'), 'every event names its attempt')
  t.ok(proxy.bytes < total * 1.3, `bytes on the wire: ${proxy.bytes} for a ${total}-byte tree (${(proxy.bytes / total).toFixed(3)}x, under 1.3x)`)
}

// a.bin (48 MiB) is the first file: at 40 % it is partial and nothing else is on disk.
t.test('issue 19 §3: the receiver killed mid-transfer (one partial file) and started again: one send --retry 5 completes, resumed, under 1.3x the bytes', t => killMidTransfer(t, 0.4))

// At 55 % a.bin is complete and b.bin partial: the receiver offers both (SPEC 8.6).
t.test('issue 19 §3: the receiver killed after a whole file and inside the next: one send --retry 5 completes, under 1.3x the bytes', t => killMidTransfer(t, 0.55))

t.test('issue 19 §3: retries until the receiver is back, then gives up after N with the last error', async t => {
  const keys = makeKeys(tempDir(t))
  const file = join(tempDir(t), 'f.bin')
  await writeRandomFile(file, 1000)
  const proxy = await countingProxy(t)
  const r = await spawnCli(t, ['send', ...connectArgs(keys, proxy.port), '--retry', '2', '--retry-delay', '0.05', '--json', file]).done
  t.equal(r.code, 5)
  t.equal(proxy.connections, 3, 'the first attempt and two retries')
  const events = parseEvents(t, r.stdout)
  t.same(eventsNamed(events, 'retry').map(e => [e.attempt, e.retries]), [[1, 2], [2, 2]])
  t.ok(eventsNamed(events, 'retry').every(e => (e.delayMs as number) >= 25 && (e.delayMs as number) <= 100 * (e.attempt as number)), 'delays within [d/2, d], d doubling from 0.05 s')
  t.match(events.at(-1), { event: 'error', code: 'ERR_NETWORK', exit: 5, final: true })

  const human = await spawnCli(t, ['send', ...connectArgs(keys, proxy.port), '--retry', '1', '--retry-delay', '0.05', file]).done
  t.equal(human.code, 5)
  t.match(human.stderr, /attempt 1 of 2 failed: .*\(ERR_NETWORK\); trying again in 0\.\d s\n/)
})

t.test('issue 19 §3: never retried: ERR_AUTH, ERR_KEY, ERR_USAGE, or the receiver\'s refusal', async t => {
  const keys = makeKeys(tempDir(t))
  const dir = tempDir(t)
  const file = join(dir, 'f.bin')
  await writeRandomFile(file, 1000)
  const server = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', '--output-dir', join(dir, 'inbox')])
  const proxy = await countingProxy(t)
  proxy.target = await waitForListening(server)
  const retry = ['--retry', '5', '--retry-delay', '0.05', '--json']

  const stranger = await spawnCli(t, ['send', '--connect', `127.0.0.1:${proxy.port}`, '--key', keys.other, '--server-key', keys.serverPK, ...retry, file]).done
  t.equal(stranger.code, 3)
  t.match(parseEvents(t, stranger.stdout), [{ event: 'error', code: 'ERR_AUTH', final: true }])
  t.equal(proxy.connections, 1, 'ERR_AUTH: one connection, no retry')

  const wrongPin = await spawnCli(t, ['send', '--connect', `127.0.0.1:${proxy.port}`, '--key', keys.client, '--server-key', keys.otherPK, ...retry, file]).done
  t.equal(wrongPin.code, 3)
  t.equal(proxy.connections, 2, 'a server that cannot prove its pinned key: no retry')

  const noKey = await spawnCli(t, ['send', '--connect', `127.0.0.1:${proxy.port}`, '--key', join(dir, 'missing.pem'), '--server-key', keys.serverPK, ...retry, file]).done
  t.equal(noKey.code, 2)
  t.match(parseEvents(t, noKey.stdout), [{ event: 'error', code: 'ERR_KEY' }])
  t.equal(proxy.connections, 2, 'ERR_KEY: never connects')

  const stdin = await spawnCli(t, ['send', ...connectArgs(keys, proxy.port), ...retry, '-']).done
  t.equal(stdin.code, 2)
  t.match(parseEvents(t, stdin.stdout), [{ event: 'error', code: 'ERR_USAGE', message: /stdin cannot be read again/ }])

  // The receiver refuses the manifest (a name in the shape of its own partial files, SPEC 8.2).
  const refusedDir = join(dir, 'refused')
  mkdirSync(refusedDir)
  await writeRandomFile(join(refusedDir, '.x.0123456789abcdef.partial'), 10)
  const refused = await spawnCli(t, ['send', ...connectArgs(keys, proxy.port), ...retry, refusedDir]).done
  t.equal(refused.code, 4)
  const events = parseEvents(t, refused.stdout)
  t.equal(eventsNamed(events, 'retry').length, 0, 'no retry event')
  t.match(events.at(-1), { event: 'error', code: 'ERR_PROTOCOL', final: true, message: /the receiver refused/ })
  t.equal(proxy.connections, 3, 'a refusal: one connection, no retry')
})
