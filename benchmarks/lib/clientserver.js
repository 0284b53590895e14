/** One sample of a client process against a server process (workers/server.js, workers/client.js). */
import { join } from 'node:path'
import { BENCH, ROOT } from './tools.js'
import { cmd, runShell, tail } from './proc.js'

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/

export function keysJson(keys) {
  return JSON.stringify({
    serverCert: keys.tls.server.cert, serverKey: keys.tls.server.key,
    clientCert: keys.tls.client.cert, clientKey: keys.tls.client.key,
    spServer: keys.sp.server, spServerPub: keys.sp.serverPub, spClient: keys.sp.client, spClientPub: keys.sp.clientPub,
  })
}

/** Resolves the client's JSON result ({ count, seconds, perSecond, medianMs, p90Ms, ... }) or throws. */
export async function clientServerSample(ctx, { kind, mode, concurrency = 1, seconds, max = 20000 }) {
  const keys = keysJson(ctx.keys)
  const server = runShell(cmd(process.execPath, join(BENCH, 'workers', 'server.js'), '--kind', kind, '--mode', mode === 'hs' ? 'hs' : 'echo', '--keys', keys, '--root', ROOT),
    { stdin: 'pipe', timeoutMs: seconds * 1000 + 90_000, label: `${kind} server` })
  try {
    const port = Number((await server.waitStderr(LISTENING, 20_000))[1])
    const r = await runShell(cmd(process.execPath, join(BENCH, 'workers', 'client.js'), '--kind', kind, '--mode', mode, '--port', port, '--keys', keys, '--root', ROOT,
      '--concurrency', concurrency, '--seconds', seconds, '--max', max), { timeoutMs: seconds * 1000 + 60_000, label: `${kind} client` }).done
    if (r.code !== 0) throw new Error(`${kind} ${mode} client ${r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal}`}: ${tail(r.stderr)}; server stderr: ${tail(server.stderr, 300)}`)
    const out = JSON.parse(r.stdout.trim().split('\n').pop())
    if (!out.count) throw new Error(`${kind} ${mode}: no completed ${mode === 'hs' ? 'handshake' : 'round trip'}; server stderr: ${tail(server.stderr, 300)}`)
    return out
  } finally {
    server.child.stdin?.end()
    setTimeout(server.kill, 2000).unref()
  }
}
