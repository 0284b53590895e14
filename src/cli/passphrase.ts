/**
 * Passphrases for encrypted private keys (issue 10): `--passphrase-file FILE` or the
 * SECURE_PIPE_PASSPHRASE environment variable for services, else a prompt without echo on the
 * controlling terminal (as ssh does, so stdin stays free for data).
 */
import { closeSync, openSync, readFileSync } from 'node:fs'
import { ReadStream } from 'node:tty'
import type { KeyObject } from 'node:crypto'
import type { Argv } from 'yargs'
import { checkOwnerOnly, isEncryptedKeyFile, KeyError, loadPrivateKey } from '../index.js'

export interface PassphraseArgs { passphraseFile?: string }

export const PASSPHRASE_ENV = 'SECURE_PIPE_PASSPHRASE'

export function passphraseOptions<T>(y: Argv<T>): Argv<T> {
  return y.option('passphrase-file', { type: 'string', requiresArg: true, describe: `file whose first line is the private key's passphrase (else $${PASSPHRASE_ENV}, else a prompt on the terminal)` })
}

/** Load our own private key, asking for its passphrase only when it is encrypted. */
export async function loadOwnKey(path: string, args: PassphraseArgs): Promise<KeyObject> {
  if (!isEncryptedKeyFile(path)) return loadPrivateKey(path)
  return loadPrivateKey(path, { passphrase: await passphrase(path, args) })
}

async function passphrase(path: string, args: PassphraseArgs): Promise<string> {
  if (args.passphraseFile !== undefined) {
    let text: string
    try {
      text = readFileSync(args.passphraseFile, 'utf8')
    } catch (err) {
      throw new KeyError(`passphrase file ${args.passphraseFile} cannot be read`, { cause: err })
    }
    checkOwnerOnly(args.passphraseFile, 'passphrase file') // issue 17 section 6: refused like a 0644 private key
    return text.split(/\r?\n/)[0]!
  }
  const env = process.env[PASSPHRASE_ENV]
  if (env !== undefined) return env
  const prompted = await promptNoEcho(`Enter passphrase for ${path}: `)
  if (prompted === undefined) throw new KeyError(`private key file ${path} is encrypted and there is no terminal to ask for its passphrase: use --passphrase-file FILE or set ${PASSPHRASE_ENV}`)
  return prompted
}

/**
 * Read one line from /dev/tty with echo off; undefined when there is no controlling terminal, or
 * when stderr (where the prompt goes) is not one: nobody would see the question.
 */
async function promptNoEcho(question: string): Promise<string | undefined> {
  if (!process.stderr.isTTY) return undefined
  let fd: number
  try {
    fd = openSync('/dev/tty', 'r+')
  } catch {
    return undefined
  }
  const tty = new ReadStream(fd)
  try {
    tty.setRawMode(true)
    process.stderr.write(question)
    return await readLine(tty)
  } finally {
    tty.setRawMode(false)
    process.stderr.write('\n')
    tty.destroy()
    try { closeSync(fd) } catch { /* the stream closed it */ }
  }
}

function readLine(tty: ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = ''
    tty.setEncoding('utf8')
    tty.on('data', (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') { resolve(line); return }
        if (ch === '\u0003') { reject(new KeyError('passphrase entry interrupted')); return }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1)
        else line += ch
      }
    })
  })
}
