/**
 * The `secure-pipe` command line (issue 3): yargs wiring, usage errors and exit codes.
 * Each command lives in its own file; this one only routes and reports.
 *
 * @example node bin/secure-pipe.js send --connect 127.0.0.1:7070 file.bin
 */
import { readFileSync } from 'node:fs'
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { SecurePipeError, UsageError } from '../index.js'
import { authorize, authorizeBuilder, type AuthorizeArgs } from './authorize.js'
import { authorized, authorizedBuilder } from './authorized.js'
import { fingerprintBuilder, printFingerprint, type FingerprintArgs } from './fingerprint.js'
import { id, idBuilder } from './id.js'
import { init, initBuilder, type InitArgs } from './init.js'
import { pin, pinBuilder, type PinArgs } from './pin.js'
import { pair, pairBuilder, type PairArgs } from './pair.js'
import { pins, pinsBuilder } from './pins.js'
import { revoke, revokeBuilder, type RevokeArgs } from './revoke.js'
import { unpin, unpinBuilder, type UnpinArgs } from './unpin.js'
import { keygen, keygenBuilder, type KeygenArgs } from './keygen.js'
import { createOutput } from './events.js'
import { dataOnStdout, recv, recvBuilder, type RecvArgs } from './recv.js'
import { errorsRouted, EXIT_OK, reportError } from './report.js'
import { usageSentence } from './usage.js'
import { send, sendBuilder, type SendArgs } from './send.js'
import { serve, serveBuilder, type ServeArgs } from './serve.js'
import { forward, forwardBuilder, type ForwardArgs } from './forward.js'
import { connectBuilder, connectCommand, type ConnectArgs } from './connect.js'
import { printNote } from './visible.js'

function packageVersion(): string {
  try {
    // build/src/cli/main.js -> the package root
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

const EPILOGUE = `Exit codes: 0 success; 1 unexpected; 2 usage, file or key problem; 3 authentication; \
4 integrity, framing, truncation or receipt mismatch; 5 network or timeout; 130/143 interrupted (SIGINT/SIGTERM).
Keys live in $SECURE_PIPE_HOME, else the platform's config directory (~/.config/secure-pipe on Linux).`

const COMMANDS = ['init', 'id', 'authorize', 'authorized', 'revoke', 'pin', 'pins', 'unpin', 'keygen', 'fingerprint', 'send', 'recv', 'pair', 'serve', 'forward', 'connect']

/** yargs reports usage problems here, rewritten as sentences; errors from our handlers pass through unchanged. */
function failHandler(argv: string[], options: () => string[]) {
  const command = COMMANDS.find(c => argv.includes(c))
  return (msg: string | null | undefined, err: Error | undefined): never => {
    if (err instanceof SecurePipeError) throw err
    if (err && err.name !== 'YError') throw err
    const text = usageSentence(msg ?? err?.message ?? 'invalid usage', { options: options(), argv, ...(command ? { command } : {}) })
    throw new UsageError(`${text.replace(/\.$/, '')}; see 'secure-pipe ${command ? command + ' ' : ''}--help'`)
  }
}

function cli(argv: string[]) {
  const y = yargs(argv)
  // The options known where parsing failed (the command's own, once it is chosen), for "did you mean".
  const options = (): string[] => Object.keys((y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key)
  return y
    .scriptName('secure-pipe')
    .usage('$0 <command> [options]\n\nMove files and byte streams over TCP between pinned RSA keys, with AES-CCM records.')
    .command('init', 'create this machine\'s identity (one key pair for both roles) in the key home', initBuilder,
      argv => init(argv as unknown as InitArgs))
    .command('id', 'print this machine\'s public key as one line to give to peers, and its fingerprint', idBuilder, () => id())
    .command('pair [target] [code..]', 'first contact by a one-time code: --listen prints one; HOST CODE on the other machine records both keys', pairBuilder, argv => pair(argv as unknown as PairArgs))
    .command('authorize <key..>', 'allow the peer with this public key (file or pasted line) to connect to this machine', authorizeBuilder,
      argv => authorize(argv as unknown as AuthorizeArgs))
    .command('authorized', 'list the keys allowed to connect', authorizedBuilder, () => authorized())
    .command('revoke <which>', 'remove an authorized key by name or fingerprint', revokeBuilder, argv => revoke(argv as unknown as RevokeArgs))
    .command('pin <target> <key..>', 'record the public key of HOST[:PORT], which `send --connect` checks', pinBuilder,
      argv => pin(argv as unknown as PinArgs))
    .command('pins', 'list pinned peers', pinsBuilder, () => pins())
    .command('unpin <target>', 'forget the key pinned for HOST[:PORT]', unpinBuilder, argv => unpin(argv as unknown as UnpinArgs))
    .command('keygen', 'generate an RSA key pair: NAME.pem (private) and NAMEPK.pem (public)', keygenBuilder,
      argv => keygen(argv as unknown as KeygenArgs))
    .command('fingerprint <file>', 'print the SHA256 fingerprint of a public or private key file', fingerprintBuilder,
      argv => printFingerprint(argv as unknown as FingerprintArgs))
    .command('send [paths..]', 'send files and directories by name, or stdin, and wait for the delivery receipt (connects by default)', sendBuilder,
      // yargs drops a '-' from a variadic positional: tell send whether one was given.
      a => send({ ...(a as unknown as SendArgs), dash: argv.includes('-') }))
    .command('recv [file]', 'receive into DIR by name, one FILE, or stdout; atomically (listens by default)', recvBuilder,
      argv => recv(argv as unknown as RecvArgs))
    .command('serve', 'tunnels: join each authorized session to a new TCP connection to --to HOST:PORT', serveBuilder,
      argv => serve(argv as unknown as ServeArgs))
    .command('forward', 'tunnels: turn each TCP connection to --local [ADDR:]PORT into a session to a `serve`', forwardBuilder,
      argv => forward(argv as unknown as ForwardArgs))
    .command('connect <remote>', 'tunnels: join stdin and stdout to a session to a `serve` (ssh ProxyCommand)', connectBuilder,
      argv => connectCommand(argv as unknown as ConnectArgs))
    .example('$0 init && $0 id', 'on each machine: create the identity, print the line to give the other side')
    .example('$0 authorize ssh-rsa AAAA... && $0 recv --listen 0.0.0.0:7070 out.bin', 'on the receiving machine')
    .example('$0 pin HOST:7070 ssh-rsa AAAA... && $0 send --connect HOST:7070 in.bin', 'on the sending machine')
    .completion('completion', 'print a bash/zsh completion script: secure-pipe completion >> ~/.bashrc')
    .demandCommand(1, 'name a command: init, id, authorize, pin, send, recv... (see --help)')
    .recommendCommands()
    .strict()
    .epilogue(EPILOGUE)
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .alias('V', 'version')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail(failHandler(argv, options))
}

/** Run the CLI; resolves with the exit code (it never throws). */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  try {
    await cli(argv).parseAsync()
    return EXIT_OK
  } catch (err) {
    if (argv.includes('--json')) routeParseErrors(argv)
    return reportError(err)
  }
}

/**
 * Issue 19 §2: with --json, a usage error that yargs finds before any handler runs is an `error`
 * event too, on the stream the command's events use (stderr for `recv` writing to stdout).
 */
function routeParseErrors(argv: string[]): void {
  if (errorsRouted()) return
  const command = COMMANDS.find(c => argv.includes(c))
  let toStdout = command === 'connect' // stdout carries the tunnel's data
  if (command === 'recv') {
    try {
      const a = recvBuilder(yargs(argv.slice(argv.indexOf('recv') + 1))).help(false).version(false).exitProcess(false).parseSync() as RecvArgs & { _: unknown[] }
      toStdout = dataOnStdout({ file: a.file ?? (a._[0] === undefined ? undefined : String(a._[0])), outputDir: a.outputDir })
    } catch { /* unparseable: stdout */ }
  }
  createOutput({ json: true, quiet: false, command: command ?? 'secure-pipe', dataOnStdout: toStdout })
}

/**
 * Entry point for bin/secure-pipe.js: the process ends when its work is done; if a handle
 * lingers (a socket closing slowly), exit anyway shortly after.
 */
export function run(): void {
  main().then(code => {
    process.exitCode = code
    setTimeout(() => process.exit(code), 2000).unref()
  }, err => {
    printNote(`secure-pipe: ${String(err)} (ERR_UNEXPECTED)`)
    process.exit(1)
  })
}
