/** Renders benchmarks/RESULTS.md from the results of run.js. */
import { formatSize } from './args.js'

const num = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–')
const mb = (bytes) => (Number.isFinite(bytes) ? (bytes / 1e6).toFixed(1) : '–')
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN)
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–')
const oneLine = (t, n = 400) => { const s = String(t).replace(/\s+/g, ' ').trim(); return s.length > n ? `${s.slice(0, n)}…` : s }
const verdict = (ok) => (ok === null ? 'n/a (not measured)' : ok ? '**pass**' : '**miss**')

function table(head, rows) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

const bulkRow = (bulk, id) => bulk?.results.find((r) => r.id === id)
const med = (r) => r?.stats?.median

const PASS = '**PASS**'
const MISS = '**MISS**'
const NA = 'n/a'

/** One target row: [target, ours, peer, ratio, verdict]; the verdict is n/a when a figure is missing. */
function target(name, ours, peer, r, ok, unit = '') {
  const have = Number.isFinite(r)
  return [name, ours, peer, have ? x(r) : '–', have ? (ok(r) ? PASS : MISS) : NA + (unit ? ` (${unit})` : '')]
}

/**
 * Issue 18's targets, each as a ratio to a peer measured in the same run (or a bound), with a
 * verdict. Rows whose figures are missing (a section not run, a peer not installed) say n/a.
 */
export function targets(R) {
  const out = []
  const b = R.bulk
  const mbps = (v) => `${num(v)} MB/s`
  for (const [sink, name] of [['file', 'a file'], ['null', '/dev/null']]) {
    const sp = med(bulkRow(b, `sp-aes128-${sink}`))
    const socat = med(bulkRow(b, `socat-tls-${sink}`))
    const ossl = med(bulkRow(b, `openssl-${sink}`))
    const best = [socat, ossl].filter(Number.isFinite)
    const peer = best.length ? Math.max(...best) : NaN
    const who = peer === socat ? 'socat' : 'openssl'
    out.push(target(`bulk CLI AES-128-CCM to ${name} ≥ 0.8x the best of socat and openssl (TLS 1.3 AES-128-CCM)`, mbps(sp), `${who} ${mbps(peer)} (socat ${mbps(socat)}, openssl ${mbps(ossl)})`, ratio(sp, peer), (r) => r >= 0.8, 'peer or section not run'))
  }
  // CPU per GiB at each end: secure-pipe's from the cpu section (start-up and handshake taken
  // out), socat's from its bulk /dev/null runs (start-up included: a few ms).
  const socatCpu = bulkRow(b, 'socat-tls-null')?.cpu
  for (const [side, key, name] of [['send', 'tx', 'sender'], ['recv', 'rx', 'receiver']]) {
    const sp = R.cpu?.rows?.find((r) => r.side === side)?.total
    const peer = socatCpu?.[key]?.median
    out.push(target(`CPU-s per GiB, ${name} ≤ 1.6x socat's (split in section 7)`, `${num(sp, 2)} CPU-s/GiB`, `socat ${num(peer, 2)} CPU-s/GiB`, ratio(sp, peer), (r) => r <= 1.6, 'cpu or bulk section not run'))
  }
  const pp = (id) => (R.pingpong || []).find((r) => r.id === id)
  const spPp = pp('sp')
  const tlsPp = pp('tls-mutual')
  const bothNoDelay = spPp?.noDelay === true && tlsPp?.noDelay === true
  const rPp = bothNoDelay ? ratio(med(spPp), med(tlsPp)) : NaN
  out.push(target('64-byte round trips ≥ 0.7x Node tls with client certificates (separate processes, setNoDelay on both)', `${num(med(spPp), 0)} /s`, `Node tls mutual ${num(med(tlsPp), 0)} /s`, rPp, (r) => r >= 0.7, bothNoDelay ? 'not measured' : 'setNoDelay not on both'))
  for (const c of [1, 16]) {
    const hs = (R.handshake || []).find((r) => r.id === `sp-c${c}`)
    const tlsHs = (R.handshake || []).find((r) => r.id === `tls-mutual-c${c}`)
    const bound = c === 1 ? R.floor?.sequential : R.floor?.concurrent
    out.push(target(`handshakes/s ${c === 1 ? 'one at a time' : '16 at once'} ≥ 1.0x Node tls with client certificates`,
      `${num(med(hs))} /s (${x(ratio(med(hs), bound))} of the RSA bound ${num(bound)})`, `Node tls mutual ${num(med(tlsHs))} /s`, ratio(med(hs), med(tlsHs)), (r) => r >= 1))
  }
  const mem = (R.memory || []).filter((r) => r.id === 'sp-aes128-file')
  for (const row of mem) {
    const tls = (R.memory || []).find((r) => r.id === 'node-tls-file' && r.size === row.size)
    const v = row.rxStats?.median
    out.push(target(`receiver peak RSS < 100 MB, median of ${row.rxStats?.n ?? 0} run(s), ${formatSize(row.size)}`, `${mb(v)} MB`, `limit 100 MB (Node tls receiver ${mb(tls?.rxStats?.median)} MB)`, v / 100e6, (r) => r < 1, 'not measured'))
  }
  if (!mem.length) out.push(['receiver peak RSS < 100 MB', 'not measured', '', '–', NA])
  const files = (id) => R.files?.results?.find((r) => r.id === id)
  const byName = med(files('by-name'))
  const tar = med(files('tar'))
  out.push([`1,000 files of 4 KiB per second ≥ 0.7x \`tar c | secure-pipe send -\` (not in this round: src/transfer/receive.ts is being rewritten elsewhere)`, Number.isFinite(byName) ? `${num(byName, 0)} files/s` : 'not measured', Number.isFinite(tar) ? `tar ${num(tar, 0)} files/s` : '', x(ratio(byName, tar)), 'reported'])
  out.push(...floors(R))
  const st = (id) => (R.startup || []).find((r) => r.id === id)?.stats?.median
  if (R.startup) out.push(['(beside them) `secure-pipe --version` wall time, ÷ `node -e 0`', `${num(st('version'), 0)} ms`, `node ${num(st('node'), 0)} ms`, x(ratio(st('version'), st('node'))), 'reported'])
  return out
}

/**
 * The floors a Node end cannot go below, measured in this run, for the targets they bound:
 * node:crypto's own AES-CCM (one context and one update per record) against the peer's figure.
 */
function floors(R) {
  const out = []
  const c = R.crypto?.results
  const cm = (id) => c?.find((r) => r.id === id)?.stats?.median
  // Bulk: the sender seals and the receiver opens on their own cores: the slower of the two is the pipe's ceiling.
  const best = (...ids) => Math.max(...ids.map(cm).filter(Number.isFinite))
  const ceiling = c ? Math.min(best('seal-128', 'lib-seal-128'), best('open-128', 'lib-open-128')) : NaN
  const peers = ['null', 'file'].flatMap((sink) => [med(bulkRow(R.bulk, `socat-tls-${sink}`)), med(bulkRow(R.bulk, `openssl-${sink}`))]).filter(Number.isFinite)
  const peer = peers.length ? Math.max(...peers) : NaN
  out.push(['(floor) bulk: node:crypto record seal/open alone, min(seal, open) AES-128, ÷ the best TLS peer', `${num(ceiling, 0)} MB/s`, `${num(peer)} MB/s`, x(ratio(ceiling, peer)), Number.isFinite(ratio(ceiling, peer)) ? (ratio(ceiling, peer) >= 0.8 ? 'within reach' : '**out of reach**') : NA])
  // (No CPU floor here: the crypto section's rates are wall time of one loop, which a loaded machine
  // stretches; the cpu section's aes-ccm column is the CPU the cipher takes at each end.)
  // 64-byte round trip: two seals and two opens (one node:crypto CCM context each) lie on the
  // critical path beyond what Node tls does with its long-lived contexts.
  const seal64 = 64 / cm('lib-seal-128-64')
  const open64 = 64 / cm('lib-open-128-64')
  const tls = (R.pingpong || []).find((r) => r.id === 'tls-mutual')
  const rtt = tls?.latency?.median * 1000
  const bound = rtt / (rtt + 2 * (seal64 + open64))
  out.push([`(floor) 64-byte round trip: Node tls's RTT + 2 x (seal + open of a 64 B record, crypto section, wall time in this run), ${num(seal64, 1)} + ${num(open64, 1)} µs`, `≥ ${num(rtt + 2 * (seal64 + open64), 0)} µs`, `Node tls mutual ${num(rtt, 0)} µs`, `≤ ${x(bound)}`, Number.isFinite(bound) ? (bound >= 0.7 ? 'within reach' : '**out of reach**') : NA])
  return out
}

function machine(R) {
  const e = R.env
  return [
    '## Machine and versions',
    '',
    `- Date: ${e.date}`,
    `- Code: ${e.git}`,
    `- Load average (1/5/15 min) at start: ${e.loadStart}; at end: ${R.loadEnd}${parseFloat(e.loadStart) > 0.5 || parseFloat(R.loadEnd) > 1.5 ? ' — other work was running on this machine, so the figures are noisier than on an idle machine' : ''}`,
    `- CPU: ${e.cpu.model} — ${e.cpu.count} logical CPU(s) (/proc/cpuinfo), AES-NI: ${e.cpu.aes ? 'yes' : 'no'}`,
    `- Memory: ${e.memGiB} GiB; kernel ${e.kernel}`,
    `- Node ${e.node}; Node's OpenSSL (process.versions.openssl) ${e.nodeOpenssl}`,
    `- openssl CLI: ${e.tools.openssl || 'not found'}; socat: ${e.tools.socat || 'not found'}; /usr/bin/time: ${e.tools.time ? 'yes' : 'no'}`,
    `- secure-pipe CLI: ${R.cliMissing ? `not run (${R.cliMissing})` : 'present'}; library: ${R.libMissing ? `not run (${R.libMissing})` : 'present'}`,
    `- Command: \`${e.command}\` — ${R.opts.rounds} round(s), bulk size ${formatSize(R.opts.size)} (${R.opts.size} bytes), ${R.opts.seconds} s per timed sample; whole run ${num(R.elapsedS, 0)} s`,
  ].join('\n')
}

function bulkSection(R) {
  const b = R.bulk
  const spBySink = { file: med(bulkRow(b, 'sp-aes128-file')), null: med(bulkRow(b, 'sp-aes128-null')) }
  const rows = b.results.filter((r) => !r.skipped).map((r) => [
    r.label, r.sink === 'file' ? 'file' : '/dev/null', num(r.stats.median), num(r.stats.min), num(r.stats.max), r.stats.n,
    r.family === 'source' ? '' : x(ratio(spBySink[r.sink], r.stats.median)),
    `${mb(r.rss.tx.median)} / ${mb(r.rss.rx.median)}`,
    `${num(r.cpu?.tx?.median, 2)} / ${num(r.cpu?.rx?.median, 2)}`,
    r.errors.length ? `${r.errors.length} failed round(s)` : '',
  ])
  const skipped = b.results.filter((r) => r.skipped).map((r) => `- \`${r.id}\`: ${r.skipped}`)
  const failed = b.results.filter((r) => r.errors.length).map((r) => `- \`${r.id}\`: ${r.errors.length} of ${b.rounds} round(s) failed; first: ${oneLine(r.errors[0])}`)
  return [
    '## 1. Bulk throughput',
    '',
    `${formatSize(b.size)} from one generator process (a fixed 1 MiB pseudo-random block written again and again with blocking writes) piped into each sender's stdin; sender and receiver are separate processes on 127.0.0.1. Time runs from spawning the sender (receiver already listening) until both have exited, so process start-up and the handshake are included. MB/s = 10^6 bytes per second; median over ${b.rounds} round(s), contenders interleaved round by round (order rotated each round). Each contender first moves a ${formatSize(4 * 2 ** 20)}+12345-byte stream whose SHA-256 is checked (file sinks); every timed file run checks the size. "sp ÷" is secure-pipe AES-128-CCM with the same sink divided by that row.`,
    '',
    table(['contender', 'sink', 'median MB/s', 'min', 'max', 'n', 'sp AES-128 ÷', 'peak RSS MB sender / receiver', 'CPU-s per GiB sender / receiver (start-up included)', 'note'], rows),
    '',
    ...(skipped.length ? ['Skipped:', '', ...skipped, ''] : []),
    ...(failed.length ? ['Failed rounds (not in the medians):', '', ...failed, ''] : []),
    'Settings: TLS contenders use TLS 1.3 with TLS_AES_128_CCM_SHA256 only and RSA-3072 self-signed certificates made for the run. Node tls selects the suite with `ciphers` (a `ciphersuites` option would be ignored) and both ends check `getCipher()` on every run; `s_client -brief` prints the suite on every run and it is checked; socat runs with `-d -d` and its "SSL connection using" line is checked on both ends. socat uses `-b 65536`; `s_client` reads stdin 8 KiB at a time (fixed), so it sends 8 KiB TLS records. Node net uses 64 KiB high-water marks like secure-pipe.',
  ].join('\n')
}

function cryptoSection(R) {
  const c = R.crypto
  const d = (r) => (r.bytes && r.bytes < 1024 ? 2 : 0)
  const rows = c.results.map((r) => [r.label, num(r.stats.median, d(r)), num(r.stats.min, d(r)), num(r.stats.max, d(r)), r.stats.n, r.bytes ? num(r.bytes / r.stats.median, 1) : ''])
  const lines = ['## 2. Crypto ceiling (one core, in-process)', '', 'Per record as the protocol does it: 12 random bytes r; IV = first 12 bytes of AES-CCM(key, nonce r, plaintext r); AES-CCM(key, nonce IV, 16-byte tag, 14-byte AAD) over a 1-byte type + 64 KiB payload; the record assembled as ct `@` IV `@` tag (the reference rows; the library rows run the same steps through its own code). MB/s of payload; µs per record = record payload / median rate (the 64 B rows show what a record costs beyond its bytes).', '', table(['operation', 'median MB/s', 'min', 'max', 'n', 'µs per record'], rows)]
  if (c.libNote) lines.push('', `Library stage: ${c.libNote}.`)
  // The faster of the reference rows and the library's own.
  const best = (...ids) => Math.max(...ids.map((id) => c.results.find((r) => r.id === id)?.stats.median).filter(Number.isFinite))
  const seal = best('seal-128', 'lib-seal-128')
  const open = best('open-128', 'lib-open-128')
  const ceiling = Math.min(seal, open)
  const pipe = R.bulk ? [['file', med(bulkRow(R.bulk, 'sp-aes128-file'))], ['/dev/null', med(bulkRow(R.bulk, 'sp-aes128-null'))]] : []
  lines.push('', `Ceiling for a pipe (sender seals on one core, receiver opens on the other): min(seal, open) AES-128, each the faster of the reference and the library row = ${num(ceiling, 0)} MB/s.`)
  for (const [sink, v] of pipe) lines.push(`- secure-pipe CLI AES-128-CCM to ${sink}: ${num(v)} MB/s = ${Number.isFinite(v) ? `${(100 * v / ceiling).toFixed(0)}%` : '–'} of that ceiling.`)
  // Node's crypto API makes one AES-CCM context per record and returns a fresh buffer; OpenSSL's own loop does not.
  const node = c.results.find((r) => r.id === 'raw-128')?.stats.median
  const ossl = c.results.find((r) => r.id === 'openssl-speed-128')?.stats.median
  if (Number.isFinite(node) && Number.isFinite(ossl)) lines.push(`- Node's AES-128-CCM, one createCipheriv and update per 64 KiB (raw row): ${num(node, 0)} MB/s = ${(100 * node / ossl).toFixed(0)}% of OpenSSL's own loop on this CPU (\`openssl speed\`, ${num(ossl, 0)} MB/s), the cipher a TLS peer such as socat runs. A Node end pays that difference before any framing or I/O.`)
  const stages = c.results.find((r) => r.id === 'lib-stages-128')?.stats.median
  if (Number.isFinite(stages)) {
    const oneCore = 1 / (1 / seal + 1 / open)
    lines.push(`- library stages in one process (seal and open on the same core): ${num(stages, 0)} MB/s = ${(100 * stages / oneCore).toFixed(0)}% of the one-core bound 1 / (1/seal + 1/open) = ${num(oneCore, 0)} MB/s.`)
  }
  return lines.join('\n')
}

function handshakeSection(R) {
  const f = R.floor
  const rows = R.handshake.map((r) => {
    const bound = r.concurrency === 1 ? f?.sequential : f?.concurrent
    return r.skipped
      ? [r.label, r.concurrency, '–', '–', '–', '–', '–', r.skipped]
      : [r.label, r.concurrency, num(r.stats.median), num(r.stats.min), num(r.stats.max), num(r.latency.median, 2), x(ratio(r.stats.median, bound)), r.errors.length ? `${r.errors.length} failed round(s): ${oneLine(r.errors[0], 200)}` : '']
  })
  return [
    '## 3. Handshakes',
    '',
    'A fresh TCP connection and full handshake per connection (no session resumption), client process and server process separate, for about ' + R.opts.seconds + ' s per sample; latency is the client\'s connect() to handshake done (median of the sample, then median over rounds).',
    '',
    table(['kind', 'at once', 'median /s', 'min', 'max', 'median latency ms', 'vs RSA bound', 'note'], rows),
    '',
    `RSA floor: t = ${num(f?.decryptMs, 3)} ms per RSA-3072 OAEP-SHA256 private decryption (Node crypto, KeyObject, this run; the median time of one call, which a busy machine disturbs less than the rate). A secure-pipe handshake does one such decryption on each side, and one at a time they run one after the other: bound = 1 / (2t) = **${num(f?.sequential)} handshakes/s**. With 16 at once the client and the server process each spend t per handshake on their own core: bound = 1 / t = **${num(f?.concurrent)} handshakes/s**. "vs RSA bound" divides by the first for 1 at once and the second for 16 at once. TLS rows use the same bounds only for comparison (TLS signs with RSA-PSS instead).`,
  ].join('\n')
}

function pingpongSection(R) {
  const rows = R.pingpong.map((r) => (r.skipped
    ? [r.label, '–', '–', '–', '–', r.skipped]
    : [r.label, num(r.stats.median, 0), num(r.stats.min, 0), num(r.stats.max, 0), num(r.latency.median * 1000, 0), `${r.noDelay === false ? 'no setNoDelay on the stream' : 'setNoDelay(true)'}${r.errors.length ? `; ${r.errors.length} failed: ${oneLine(r.errors[0], 200)}` : ''}`]))
  const sp = med(R.pingpong.find((r) => r.id === 'sp'))
  const tls = med(R.pingpong.find((r) => r.id === 'tls'))
  const mutual = med(R.pingpong.find((r) => r.id === 'tls-mutual'))
  return ['## 4. Small messages (64-byte ping-pong)', '', 'One connection, one 64-byte message out and its echo back at a time, for about ' + R.opts.seconds + ' s per sample; client and echo server in separate processes.', '', table(['kind', 'median round trips/s', 'min', 'max', 'median RTT µs', 'note'], rows), '', `secure-pipe ÷ Node tls with client certificates: ${x(ratio(sp, mutual))}; ÷ Node tls server-only: ${x(ratio(sp, tls))}`].join('\n')
}

function memorySection(R) {
  const rows = R.memory.map((r) => (r.skipped
    ? [r.label, formatSize(r.size), '–', '–', '–', r.skipped]
    : [r.label, formatSize(r.size), `${mb(r.txStats.median)} (${mb(r.txStats.min)}–${mb(r.txStats.max)})`, `${mb(r.rxStats.median)} (${mb(r.rxStats.min)}–${mb(r.rxStats.max)})`, num(r.mbpsStats.median, 0), r.errors.length ? oneLine(r.errors[0], 200) : '']))
  return ['## 5. Memory', '', `Peak RSS (VmHWM) of each process from \`/usr/bin/time -f %M\`, moving the size to a file; ${R.opts.memRounds} round(s): median (min–max). MB = 10^6 bytes.`, '', table(['contender', 'size', 'sender peak RSS MB', 'receiver peak RSS MB', 'MB/s', 'note'], rows)].join('\n')
}

function rsaSection(R) {
  const r = R.rsa
  const node = r.results.find((q) => q.id === 'node-keyobject')?.stats.median
  const rows = r.results.map((q) => [q.label, num(q.stats.median), num(q.stats.min), num(q.stats.max), q.stats.n, num(q.medianCallMs, 3), q.id === 'node-keyobject' ? '1.00x' : x(ratio(q.stats.median, node))])
  return ['## 6. RSA-3072 OAEP-SHA256', '', 'Operations per second on one core in this process, about ' + R.opts.seconds + ' s per sample (node-forge: at least 3 s, at most 200 operations).', '', table(['operation', 'median ops/s', 'min', 'max', 'n', 'median ms per call', '÷ Node KeyObject'], rows), ...(r.forgeNote ? ['', r.forgeNote] : [])].join('\n')
}

function cpuSection(R) {
  const c = R.cpu
  return ['## 7. Where the CPU goes (CLI, per GiB)', '', `CPU-seconds per GiB of each end of \`secure-pipe send FILE\` -> \`recv /dev/null\` (AES-128-CCM, ${c.mib} MiB, ${c.rounds} round(s), medians) from \`benchmarks/cpu-split.js\`: the total is user + sys of a run without the profiler less a 1 MiB run's (start-up and handshake, shown apart); it is split by the busy samples of a \`node --cpu-prof\` run (main thread; the thread pool's file reads count where the JS call that started them is). The design's limit is one AES-CCM pass per end: the aes-ccm column.`, '', c.table].join('\n')
}

const QUIRKS = [
  '## Notes on the peers',
  '',
  '- `openssl s_client` treats a line of stdin starting with `Q` (quit), `R` (renegotiate) or `k`/`K` (key update) as a command unless `-nocommands` is given; random data hits this within a few chunks and the transfer stops early with exit code 0 (we saw 120 KiB of 10 MB arrive). It also ignores stdin EOF when `-quiet` is used (`-quiet` implies `-ign_eof`): it sends everything and then never exits; the sender here uses `-brief -no_ign_eof -nocommands`. `s_client` reads stdin 8 KiB at a time, so it sends 8 KiB records.',
  '- `openssl s_server -quiet` prints nothing, not even the `ACCEPT 127.0.0.1:PORT` line that tells which port `-accept 127.0.0.1:0` got; the benchmark picks a free port and waits for the LISTEN state in /proc/net/tcp rather than connecting (a probe connection would use up `-naccept 1`). s_server reads its own stdin too and closes the connection at stdin EOF (with stdin from /dev/null it wrote 0 bytes and exited 0), so its stdin is kept open (a pipe nobody writes) for the whole transfer. With `-naccept 1` it exits after the client\'s close_notify, after writing everything to stdout.',
  '- socat has no option for TLS 1.3 suites (`cipher=` sets TLS 1.2 lists only); an `OPENSSL_CONF` file with `Ciphersuites = TLS_AES_128_CCM_SHA256` under `system_default` does it, and `-d -d` logs "SSL connection using TLS_AES_128_CCM_SHA256", which is checked. socat copies 8 KiB at a time unless `-b` is given.',
  '- Node `tls` ignores an unknown `ciphersuites` option silently; TLS 1.3 suites are chosen with `ciphers`. Node 20\'s default high-water mark is 16 KiB; the Node workers set 64 KiB.',
].join('\n')

function startupSection(R) {
  const rows = R.startup.map((r) => (r.skipped ? [r.label, '–', '–', '–', '–', r.skipped] : [r.label, num(r.stats.median, 0), num(r.stats.min, 0), num(r.stats.max, 0), r.stats.n, '']))
  return ['## 8. Start-up', '', 'Wall time from spawning to exit, interleaved runs (benchmarks/startup.js); the CLI\'s start-up is what its launcher tuning (issue 18, decision 4) must be weighed against.', '', table(['command', 'median ms', 'min', 'max', 'n', 'note'], rows)].join('\n')
}

function filesSection(R) {
  const rows = R.files.results.map((r) => [r.label, num(r.stats.median, 0), num(r.stats.min, 0), num(r.stats.max, 0), r.stats.n])
  return ['## Many small files', '', '1,000 files of 4 KiB in 10 directories, sent by name and as one tar stream. Time runs from spawning the sender (receiver listening) until both have exited, start-up and handshake included; each run checks that 1,000 files of 4 KiB arrived. Rounds interleaved.', '',
    table(['contender', 'median files/s', 'min', 'max', 'n'], rows)].join('\n')
}

export function renderReport(R) {
  const parts = ['# secure-pipe benchmarks', '', 'Generated by `npm run bench` (benchmarks/run.js); everything in one run on one machine, over 127.0.0.1 only.', '', machine(R)]
  parts.push('', '## Targets (issue 18)', '', 'Every figure is a ratio to a peer measured in this run (or to a fixed bound); n/a: the figure is missing (section not run, peer not installed).', '', table(['target', 'secure-pipe', 'peer', 'ratio', 'verdict'], targets(R)))
  if (R.bulk) parts.push('', bulkSection(R))
  if (R.files?.results?.length) parts.push('', filesSection(R))
  if (R.crypto) parts.push('', cryptoSection(R))
  if (R.handshake) parts.push('', handshakeSection(R))
  if (R.pingpong) parts.push('', pingpongSection(R))
  if (R.memory) parts.push('', memorySection(R))
  if (R.rsa) parts.push('', rsaSection(R))
  if (R.cpu) parts.push('', cpuSection(R))
  if (R.startup) parts.push('', startupSection(R))
  const errs = R.sectionErrors || []
  if (errs.length) parts.push('', '## Sections that failed', '', ...errs.map((e) => `- ${e}`))
  parts.push('', QUIRKS, '')
  return parts.join('\n')
}
