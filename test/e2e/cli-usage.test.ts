/**
 * issue 10 usage messages, through the real CLI: neither yargs' wording nor errno codes reach the
 * user, a mistyped flag gets "did you mean", `recv` will not write binary to a terminal, every
 * command's --help has examples, and `secure-pipe completion` works.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { BIN, listenArgs, makeKeys, runCli, tempDir } from '../helpers/cli.js'
import { HAS_SCRIPT } from '../helpers/home.js'

t.test('issue 10: yargs wording and errno codes never reach the user', async t => {
  const dir = tempDir(t)
  const cases: Array<[string[], RegExp]> = [
    [['recv', '--outptu-dir', 'x'], /^secure-pipe: unknown option --outptu-dir; did you mean --output-dir\?; see 'secure-pipe recv --help' \(ERR_USAGE\)\n$/],
    [['send', '--server-kye', 'x'], /unknown option --server-kye; did you mean --server-key\?/],
    [['recv', '--keep-open'], /^secure-pipe: --keep-open needs a directory to receive into: --output-dir DIR \(or an existing DIR\) \(ERR_USAGE\)\n$/],
    [['send', '--listen', ':1', '--connect', ':2'], /give either --listen or --connect, not both/],
    [['send', '--cipher', 'rc4'], /--cipher must be one of aes-128-ccm, aes-256-ccm \(got rc4\)/],
    [['keygen'], /--name is required/],
    [['send', '--key'], /--key needs a value/],
    [['init', 'extra'], /unexpected argument extra/],
    [['sned'], /did you mean send\?/],
    [['send', `${dir}/missing`], new RegExp(`cannot read ${dir}/missing: it does not exist \\(ERR_IO\\)`)],
    [['send', dir, '-'], /- \(stdin\) cannot be combined with other paths/],
  ]
  const results = await Promise.all(cases.map(([args]) => runCli(t, args)))
  cases.forEach(([args, re], i) => {
    const r = results[i]!
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, re, args.join(' '))
    t.notMatch(r.stderr, /Unknown argument|Implications failed|mutually exclusive|Missing required|Invalid values|Not enough|\bE[A-Z]{3,}\b(?! \()/, 'no yargs or errno wording')
  })
})

t.test('issue 10: recv refuses to write to a terminal unless - or --force is given', { skip: HAS_SCRIPT ? false : 'script(1) is not installed to provide a terminal' }, async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  // script(1) gives the CLI a pseudo-terminal as stdout.
  const run = (extra: string[]): Promise<{ code: number | null, out: string }> => {
    const cmd = [process.execPath, BIN, 'recv', ...listenArgs(k), ...extra].map(a => JSON.stringify(a)).join(' ')
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c
      if (/listening on/.test(out)) child.kill('SIGTERM') // it got past the check: enough
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    return new Promise(resolve => child.once('close', code => { clearTimeout(timer); resolve({ code, out }) }))
  }
  const refused = await run([])
  t.equal(refused.code, 2, refused.out)
  t.match(refused.out, /stdout is a terminal: name a FILE, redirect the output .* or give - to print the data here anyway \(ERR_USAGE\)/)
  t.notMatch(refused.out, /listening on/, 'refused before listening')
  for (const extra of [['-'], ['--force']]) {
    const allowed = await run(extra)
    t.match(allowed.out, /listening on/, `${extra[0]} lets it listen`)
  }
})

t.test('issue 10: --help on every new command shows examples', async t => {
  const commands = [['init'], ['id'], ['authorize'], ['authorized'], ['revoke'], ['pin'], ['pins'], ['unpin']]
  const results = await Promise.all(commands.map(cmd => runCli(t, [...cmd, '--help'])))
  commands.forEach((cmd, i) => {
    t.equal(results[i]!.code, 0, `${cmd.join(' ')} --help`)
    t.match(results[i]!.stdout.toString(), /Examples:/, `${cmd[0]} has examples`)
  })
})

t.test('issue 10: secure-pipe completion prints a shell script; completions list commands and options', async t => {
  const script = await runCli(t, ['completion'])
  t.equal(script.code, 0, script.stderr)
  t.match(script.stdout.toString(), /secure-pipe --get-yargs-completions/)
  const commands = await runCli(t, ['--get-yargs-completions', 'secure-pipe', ''])
  t.match(commands.stdout.toString(), /^init$/m)
  t.match(commands.stdout.toString(), /^pin$/m)
  const options = await runCli(t, ['--get-yargs-completions', 'secure-pipe', 'send', '--'])
  t.match(options.stdout.toString(), /^--server-key$/m)
})
