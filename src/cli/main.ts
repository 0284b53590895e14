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
import { fingerprintBuilder, printFingerprint, type FingerprintArgs } from './fingerprint.js'
import { keygen, keygenBuilder, type KeygenArgs } from './keygen.js'
import { recv, recvBuilder, type RecvArgs } from './recv.js'
import { EXIT_OK, reportError } from './report.js'
import { send, sendBuilder } from './send.js'
import type { TransferArgs } from './options.js'

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
Key files: NAME.pem is a private key (PKCS#8, mode 0600), NAMEPK.pem its public key (SPKI).`

const COMMANDS = ['keygen', 'fingerprint', 'send', 'recv']

/** yargs reports usage problems here; errors from our handlers pass through unchanged. */
function failHandler(argv: string[]) {
  const command = COMMANDS.find(c => argv.includes(c))
  return (msg: string | null | undefined, err: Error | undefined): never => {
    if (err instanceof SecurePipeError) throw err
    if (err && err.name !== 'YError') throw err
    const text = (msg ?? err?.message ?? 'invalid usage').replace(/:\s*\n\s*/g, ': ')
    throw new UsageError(`${text.replace(/\.$/, '')}; see 'secure-pipe ${command ? command + ' ' : ''}--help'`)
  }
}

function cli(argv: string[]) {
  return yargs(argv)
    .scriptName('secure-pipe')
    .usage('$0 <command> [options]\n\nMove files and byte streams over TCP between pinned RSA keys, with AES-CCM records.')
    .command('keygen', 'generate an RSA key pair: NAME.pem (private) and NAMEPK.pem (public)', keygenBuilder,
      argv => keygen(argv as unknown as KeygenArgs))
    .command('fingerprint <file>', 'print the SHA256 fingerprint of a public or private key file', fingerprintBuilder,
      argv => printFingerprint(argv as unknown as FingerprintArgs))
    .command('send [file]', 'send FILE or stdin and wait for the delivery receipt (connects by default)', sendBuilder,
      argv => send(argv as unknown as TransferArgs))
    .command('recv [file]', 'receive into FILE (atomically) or stdout (listens by default)', recvBuilder,
      argv => recv(argv as unknown as RecvArgs))
    .example('$0 keygen --name server && $0 keygen --name client', 'create keys/server.pem, keys/serverPK.pem, keys/client.pem, keys/clientPK.pem')
    .example('$0 recv out.bin', 'on the receiving machine')
    .example('$0 send in.bin', 'on the sending machine')
    .demandCommand(1, 'name a command: keygen, fingerprint, send or recv')
    .recommendCommands()
    .strict()
    .epilogue(EPILOGUE)
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .alias('V', 'version')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail(failHandler(argv))
}

/** Run the CLI; resolves with the exit code (it never throws). */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  try {
    await cli(argv).parseAsync()
    return EXIT_OK
  } catch (err) {
    return reportError(err)
  }
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
    process.stderr.write(`secure-pipe: ${String(err)} (ERR_UNEXPECTED)\n`)
    process.exit(1)
  })
}
