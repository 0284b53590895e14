/**
 * Bulk throughput: N bytes from one generator (workers/gen.js, the same source for everyone)
 * piped into a sender process, over 127.0.0.1 to a receiver process that writes a file or
 * /dev/null. Time runs from spawning the sender pipeline (receiver already listening) to the
 * receiver's exit, so it includes process start-up and the handshake, as a user of the tool sees.
 */
import { rmSync, statSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { BENCH, CLI } from './lib/tools.js'
import { TLS_SUITE } from './lib/keys.js'
import { cmd, freePort, readCpuSeconds, readPeakRss, runShell, tail, waitListening } from './lib/proc.js'
import { sourceSha256 } from './lib/source.js'
import { rotate, summarize } from './lib/stats.js'

const NODE = process.execPath
const GEN = join(BENCH, 'workers', 'gen.js')
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/

const mustContain = (what, ...needles) => (stderr) => {
  for (const n of needles) if (!stderr.includes(n)) return `${what}: expected '${n}' in its stderr (negotiated something else?): ${tail(stderr, 400)}`
  return null
}

function secureCli(cipher, sink) {
  const bits = cipher.slice(4, 7)
  return {
    id: `sp-aes${bits}-${sink}`, family: 'secure-pipe', cipher, sink,
    label: `secure-pipe CLI ${cipher.toUpperCase()}`,
    missing: (ctx) => ctx.cliMissing,
    receiver: (ctx, out) => ({
      line: sink === 'file'
        ? cmd(NODE, CLI, 'recv', out, '--listen', '127.0.0.1:0', '--key', ctx.keys.sp.server, '--authorized', ctx.keys.sp.clientPub, '--quiet', '--force')
        : cmd(NODE, CLI, 'recv', '-', '--listen', '127.0.0.1:0', '--key', ctx.keys.sp.server, '--authorized', ctx.keys.sp.clientPub, '--quiet'),
      stdoutTo: sink === 'file' ? '/dev/null' : out,
      ready: 'stderr',
    }),
    sender: (ctx, port) => ({
      line: cmd(NODE, CLI, 'send', '-', '--connect', `127.0.0.1:${port}`, '--key', ctx.keys.sp.client, '--server-key', ctx.keys.sp.serverPub, '--cipher', cipher, '--quiet'),
    }),
  }
}

function nodeWorker(proto, sink) {
  const tls = proto === 'tls'
  return {
    id: `${tls ? 'node-tls' : 'node-net'}-${sink}`, family: tls ? 'node-tls' : 'node-net', sink,
    label: tls ? `Node tls TLS 1.3 ${TLS_SUITE}` : 'Node net (plain TCP, 64 KiB HWM)',
    missing: () => null,
    receiver: (ctx, out) => ({
      line: cmd(NODE, join(BENCH, 'workers', 'node-recv.js'), '--proto', proto, '--out', out,
        ...(tls ? ['--cert', ctx.keys.tls.server.cert, '--key', ctx.keys.tls.server.key] : [])),
      ready: 'stderr',
      check: (stderr) => (/received (\d+) bytes/.exec(stderr)?.[1] === String(ctx.size) ? null : `receiver did not report ${ctx.size} bytes: ${tail(stderr, 300)}`),
    }),
    sender: (ctx, port) => ({
      line: cmd(NODE, join(BENCH, 'workers', 'node-send.js'), '--proto', proto, '--port', port, ...(tls ? ['--ca', ctx.keys.tls.server.cert] : [])),
    }),
  }
}

function opensslCli(sink) {
  return {
    id: `openssl-${sink}`, family: 'openssl', sink,
    label: `openssl s_server/s_client TLS 1.3 ${TLS_SUITE}`,
    missing: (ctx) => (ctx.tools.openssl ? null : 'openssl CLI not found (apt-get install openssl)'),
    receiver: (ctx, out, port) => ({
      // -quiet: only the payload on stdout; -naccept 1: exit after the one connection.
      line: cmd('openssl', 's_server', '-accept', `127.0.0.1:${port}`, '-cert', ctx.keys.tls.server.cert, '-key', ctx.keys.tls.server.key,
        '-tls1_3', '-ciphersuites', TLS_SUITE, '-quiet', '-naccept', '1'),
      stdoutTo: out,
      ready: 'listen',
    }),
    sender: (ctx, port) => ({
      // -no_ign_eof: end at stdin EOF; -nocommands: a chunk starting with Q/R/k/K is data, not a command;
      // -brief: prints the negotiated protocol and suite on stderr, checked below.
      line: cmd('openssl', 's_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-ciphersuites', TLS_SUITE,
        '-CAfile', ctx.keys.tls.server.cert, '-brief', '-no_ign_eof', '-nocommands'),
      stdoutTo: '/dev/null',
      check: mustContain('s_client', 'Protocol version: TLSv1.3', `Ciphersuite: ${TLS_SUITE}`),
    }),
  }
}

function socat(kind, sink) {
  const tls = kind === 'tls'
  return {
    id: `socat-${kind}-${sink}`, family: tls ? 'socat-tls' : 'socat-tcp', sink,
    label: tls ? `socat OPENSSL TLS 1.3 ${TLS_SUITE}` : 'socat TCP (plain)',
    missing: (ctx) => (ctx.tools.socat ? null : 'socat not found (apt-get install socat)'),
    receiver: (ctx, out, port) => ({
      line: tls
        ? cmd('socat', '-d', '-d', '-b', '65536', '-u',
          `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${ctx.keys.tls.server.cert},key=${ctx.keys.tls.server.key},verify=0`, 'STDOUT')
        : cmd('socat', '-b', '65536', '-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'STDOUT'),
      env: tls ? { OPENSSL_CONF: ctx.keys.opensslConf } : undefined,
      stdoutTo: out,
      ready: 'listen',
      check: tls ? mustContain('socat receiver', 'SSL proto version used: TLSv1.3', `SSL connection using ${TLS_SUITE}`) : undefined,
    }),
    sender: (ctx, port) => ({
      line: tls
        ? cmd('socat', '-d', '-d', '-b', '65536', '-u', 'STDIN', `OPENSSL:127.0.0.1:${port},cafile=${ctx.keys.tls.server.cert}`)
        : cmd('socat', '-b', '65536', '-u', 'STDIN', `TCP:127.0.0.1:${port}`),
      env: tls ? { OPENSSL_CONF: ctx.keys.opensslConf } : undefined,
      check: tls ? mustContain('socat sender', `SSL connection using ${TLS_SUITE}`) : undefined,
    }),
  }
}

/** The generator into `cat > /dev/null`: the most any contender can get from the source. */
const sourceCeiling = {
  id: 'source-null', family: 'source', sink: 'null', local: true,
  label: 'source only: gen | cat > /dev/null',
  missing: () => null,
  sender: () => ({ line: 'cat', stdoutTo: '/dev/null' }),
}

export function contenders() {
  return [
    secureCli('aes-128-ccm', 'file'), secureCli('aes-128-ccm', 'null'),
    secureCli('aes-256-ccm', 'file'), secureCli('aes-256-ccm', 'null'),
    nodeWorker('tls', 'file'), nodeWorker('tls', 'null'),
    opensslCli('file'), opensslCli('null'),
    socat('tls', 'file'), socat('tls', 'null'),
    socat('tcp', 'file'), socat('tcp', 'null'),
    nodeWorker('net', 'file'), nodeWorker('net', 'null'),
    sourceCeiling,
  ]
}

const withTime = (ctx, rssFile, line) => (ctx.tools.time ? `${cmd(ctx.tools.time, '-f', '%U %S %M', '-o', rssFile)} ${line}` : line)
const redirect = (line, to) => (to ? `${line} > ${cmd(to)}` : line)

async function sha256File(path) {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk)
  return h.digest('hex')
}

/**
 * One transfer of `size` bytes. Resolves { seconds, mbps, rssRx, rssTx } or throws with the
 * reason (exit codes, stderr tails, wrong suite, wrong size, wrong content when verify is set).
 */
export async function transfer(ctx, c, size, { verify = false, timeoutMs } = {}) {
  const out = c.sink === 'file' ? join(ctx.runDir, `out-${c.id}.bin`) : '/dev/null'
  const rssRx = join(ctx.runDir, `rss-rx-${c.id}.txt`)
  const rssTx = join(ctx.runDir, `rss-tx-${c.id}.txt`)
  rmSync(rssRx, { force: true })
  rmSync(rssTx, { force: true })
  const sub = { ...ctx, size }
  let rx = null
  let port = null
  let rxSpec = null
  try {
    if (!c.local) {
      port = (c.receiver(sub, out, 0).ready === 'listen') ? await freePort() : 0
      rxSpec = c.receiver(sub, out, port)
      rx = runShell(redirect(withTime(ctx, rssRx, rxSpec.line), rxSpec.stdoutTo), {
        timeoutMs, env: rxSpec.env, stdin: 'pipe', captureStdout: !rxSpec.stdoutTo, label: `${c.id} receiver`,
      })
      if (rxSpec.ready === 'stderr') port = Number((await rx.waitStderr(LISTENING, 20_000))[1])
      else await waitListening(port, 20_000, () => rx.child.exitCode === null && rx.child.signalCode === null)
    }
    const txSpec = c.sender(sub, port)
    const t0 = process.hrtime.bigint()
    const tx = runShell(redirect(`${cmd(process.execPath, GEN, size)} | ${withTime(ctx, rssTx, txSpec.line)}`, txSpec.stdoutTo), {
      timeoutMs, env: txSpec.env, label: `${c.id} sender`,
    })
    // Whichever side fails first, the other is not left waiting for its timeout.
    tx.done.then((r) => { if (r.code !== 0 && rx) setTimeout(rx.kill, 1_000) })
    rx?.done.then((r) => { if (r.code !== 0) setTimeout(tx.kill, 1_000) })
    const txr = await tx.done
    const rxr = rx ? await rx.done : txr
    rx?.child.stdin?.destroy()
    const seconds = Number(rxr.endNs > txr.endNs ? rxr.endNs - t0 : txr.endNs - t0) / 1e9
    const fail = (why) => { throw new Error(`${c.id}: ${why}`) }
    if (rx && rxr.code !== 0) fail(`receiver ${rxr.timedOut ? 'timed out' : `exited ${rxr.code ?? rxr.signal}`}; stderr: ${tail(rxr.stderr)}${txr.code ? `; sender stderr: ${tail(txr.stderr)}` : ''}`)
    if (txr.code !== 0) fail(`sender ${txr.timedOut ? 'timed out' : `exited ${txr.code ?? txr.signal}`}; stderr: ${tail(txr.stderr)}`)
    for (const [spec, r] of [[rxSpec, rxr], [txSpec, txr]]) {
      const why = spec?.check?.(r.stderr)
      if (why) fail(why)
    }
    if (c.sink === 'file') {
      const got = statSync(out).size
      if (got !== size) fail(`receiver wrote ${got} bytes, expected ${size}`)
      if (verify && (await sha256File(out)) !== sourceSha256(size)) fail('receiver wrote the right number of bytes but different content')
    }
    return { seconds, mbps: size / 1e6 / seconds, rssRx: readPeakRss(rssRx), rssTx: readPeakRss(rssTx), cpuRx: readCpuSeconds(rssRx), cpuTx: readCpuSeconds(rssTx) }
  } finally {
    rx?.kill()
    if (c.sink === 'file') rmSync(out, { force: true })
  }
}

export function selectContenders(all, wanted) {
  if (!wanted) return all
  return all.filter((c) => wanted.some((w) => c.id === w || c.id.startsWith(w) || c.family === w))
}

/** Preflight (small, content-checked) then `rounds` interleaved rounds. */
export async function runBulk(ctx, log) {
  const { size, rounds } = ctx.opts
  const timeoutMs = (ctx.opts.timeout ?? (30 + size / 10e6)) * 1000
  const list = selectContenders(contenders(), ctx.opts.contenders)
  const results = new Map()
  for (const c of list) {
    const missing = await c.missing(ctx)
    results.set(c.id, { id: c.id, label: c.label, family: c.family, sink: c.sink, samples: [], rssRx: [], rssTx: [], cpuRx: [], cpuTx: [], skipped: missing ? `skipped: ${missing}` : null, errors: [] })
  }
  const probe = 4 * 2 ** 20 + 12345
  for (const c of list) {
    const r = results.get(c.id)
    if (r.skipped) { log(`bulk ${c.id}: ${r.skipped}`); continue }
    try {
      await transfer(ctx, c, probe, { verify: true, timeoutMs: 60_000 })
      log(`bulk ${c.id}: preflight ok (${probe} bytes${c.sink === 'file' ? ', SHA-256 checked' : ''})`)
    } catch (err) {
      r.skipped = `failed its preflight: ${err.message}`
      log(`bulk ${c.id}: ${r.skipped}`)
    }
  }
  const live = list.filter((c) => !results.get(c.id).skipped)
  for (let round = 0; round < rounds; round++) {
    for (const c of rotate(live, round)) {
      const r = results.get(c.id)
      try {
        const t = await transfer(ctx, c, size, { timeoutMs })
        r.samples.push(t.mbps)
        if (t.rssRx) r.rssRx.push(t.rssRx)
        if (t.rssTx) r.rssTx.push(t.rssTx)
        // CPU-seconds per GiB moved, start-up and handshake included (user + sys of each process).
        if (t.cpuRx) r.cpuRx.push(t.cpuRx / (size / 2 ** 30))
        if (t.cpuTx) r.cpuTx.push(t.cpuTx / (size / 2 ** 30))
        log(`bulk round ${round + 1}/${rounds} ${c.id}: ${t.mbps.toFixed(1)} MB/s (${t.seconds.toFixed(2)} s)`)
      } catch (err) {
        r.errors.push(err.message)
        log(`bulk round ${round + 1}/${rounds} ${c.id}: FAILED ${err.message}`)
      }
    }
  }
  for (const r of results.values()) {
    r.stats = summarize(r.samples)
    r.rss = { rx: summarize(r.rssRx), tx: summarize(r.rssTx) }
    r.cpu = { rx: summarize(r.cpuRx), tx: summarize(r.cpuTx) }
  }
  return { size, rounds, results: [...results.values()] }
}
