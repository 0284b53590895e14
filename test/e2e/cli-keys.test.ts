/**
 * issue 3: `secure-pipe keygen`, `fingerprint`, `--help`, `--version` and usage errors,
 * through the real CLI.
 */
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadPrivateKey, loadPublicKey, sshFingerprint } from '../../src/index.js'
import { ROOT, runCli, tempDir } from '../helpers/cli.js'

const mode = (p: string): number => statSync(p).mode & 0o777

t.test('issue 3: keygen writes NAME.pem (PKCS#8, 0600) and NAMEPK.pem (SPKI) and prints paths and fingerprint', async t => {
  const dir = tempDir(t)
  const r = await runCli(t, ['keygen', '--name', 'server', '--out', dir, '--bits', '2048'])
  t.equal(r.code, 0, r.stderr)
  const priv = join(dir, 'server.pem')
  const pub = join(dir, 'serverPK.pem')
  t.equal(mode(priv), 0o600, 'private key is mode 0600')
  t.match(readFileSync(priv, 'utf8'), /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8')
  t.match(readFileSync(pub, 'utf8'), /^-----BEGIN PUBLIC KEY-----/, 'SPKI')
  const fp = sshFingerprint(loadPublicKey(pub))
  const out = r.stdout.toString()
  t.match(out, priv)
  t.match(out, pub)
  t.match(out, fp)
  t.equal(sshFingerprint(loadPrivateKey(priv)), fp, 'the two files are one pair')
})

t.test('issue 3: keygen refuses to overwrite without --force (exit 2) and overwrites with it', async t => {
  const dir = tempDir(t)
  t.equal((await runCli(t, ['keygen', '--name', 'a', '--out', dir, '--bits', '2048'])).code, 0)
  const before = readFileSync(join(dir, 'a.pem'), 'utf8')
  const refused = await runCli(t, ['keygen', '--name', 'a', '--out', dir, '--bits', '2048'])
  t.equal(refused.code, 2)
  t.match(refused.stderr, /^secure-pipe: .*already exists.*\(ERR_KEY\)\n$/)
  t.equal(readFileSync(join(dir, 'a.pem'), 'utf8'), before, 'untouched')
  const forced = await runCli(t, ['keygen', '--name', 'a', '--out', dir, '--bits', '2048', '--force'])
  t.equal(forced.code, 0, forced.stderr)
  t.not(readFileSync(join(dir, 'a.pem'), 'utf8'), before, 'replaced')
  t.equal(mode(join(dir, 'a.pem')), 0o600)
})

t.test('issue 3: keygen rejects a bad size or name with exit 2', async t => {
  const dir = tempDir(t)
  for (const args of [['--bits', '1024'], ['--bits', '3000.5'], ['--name', '../evil']]) {
    const r = await runCli(t, ['keygen', '--name', 'k', '--out', dir, ...args])
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /\(ERR_USAGE\)\n$/)
  }
})

t.test('issue 3: fingerprint of a public or private key file equals the library sshFingerprint()', async t => {
  const dir = tempDir(t)
  t.equal((await runCli(t, ['keygen', '--name', 'k', '--out', dir, '--bits', '2048'])).code, 0)
  const expected = sshFingerprint(loadPublicKey(join(dir, 'kPK.pem')))
  t.match(expected, /^SHA256:[A-Za-z0-9+/]{43}$/)
  for (const f of ['kPK.pem', 'k.pem']) {
    const r = await runCli(t, ['fingerprint', join(dir, f)])
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), expected + '\n', f)
  }
})

t.test('issue 3: fingerprint lists every key of an authorized keys file', async t => {
  const dir = tempDir(t)
  for (const n of ['a', 'b']) t.equal((await runCli(t, ['keygen', '--name', n, '--out', dir, '--bits', '2048'])).code, 0)
  const both = join(dir, 'authorized.pem')
  writeFileSync(both, readFileSync(join(dir, 'aPK.pem'), 'utf8') + readFileSync(join(dir, 'bPK.pem'), 'utf8'))
  const r = await runCli(t, ['fingerprint', both])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), ['a', 'b'].map(n => sshFingerprint(loadPublicKey(join(dir, `${n}PK.pem`)))).join('\n') + '\n')
})

t.test('issue 3: fingerprint of a missing or non-key file is exit 2 (ERR_KEY)', async t => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'junk.pem'), 'not a key\n')
  for (const f of ['missing.pem', 'junk.pem']) {
    const r = await runCli(t, ['fingerprint', join(dir, f)])
    t.equal(r.code, 2, f)
    t.match(r.stderr, /^secure-pipe: .+ \(ERR_KEY\)\n$/)
  }
})

t.test('issue 3: bad flags, unknown commands and missing arguments exit 2 with one line', async t => {
  const cases = [
    ['send', '--bogus'], ['recv', '--no-such-flag', 'x'], ['frobnicate'], [], ['keygen'], ['fingerprint'],
    ['send', '--cipher', 'rc4'], ['send', '--listen', ':1', '--connect', ':2'], ['recv', '--listen', 'nope'],
    ['recv', '--keep-open'], ['send', '--handshake-timeout', '-1'],
  ]
  const results = await Promise.all(cases.map(args => runCli(t, args)))
  cases.forEach((args, i) => {
    t.equal(results[i]!.code, 2, `secure-pipe ${args.join(' ')}`)
    t.match(results[i]!.stderr, /^secure-pipe: [^\n]+ \(ERR_USAGE\)\n$/, 'one line with the code')
  })
})

t.test('issue 3: --help on every command shows examples; --version prints the package version', async t => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const v = await runCli(t, ['--version'])
  t.equal(v.code, 0)
  t.equal(v.stdout.toString().trim(), version)
  const commands = [[], ['keygen'], ['fingerprint'], ['send'], ['recv']]
  const results = await Promise.all(commands.map(cmd => runCli(t, [...cmd, '--help'])))
  commands.forEach((cmd, i) => {
    t.equal(results[i]!.code, 0, `${cmd.join(' ')} --help`)
    t.match(results[i]!.stdout.toString(), /Examples:/)
  })
})

t.test('issue 3: a missing key file is exit 2 before any network activity', async t => {
  const dir = tempDir(t)
  const r = await runCli(t, ['send', '--connect', '127.0.0.1:9', '--key', join(dir, 'none.pem'), '--server-key', join(dir, 'nonePK.pem'), '-'])
  t.equal(r.code, 2)
  t.match(r.stderr, /does not exist.*\(ERR_KEY\)\n$/)
})
