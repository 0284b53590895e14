/**
 * issue 20: PostgreSQL's psql against a real PostgreSQL server through `forward` and `serve`: a
 * query, 100,000 rows (about 4 MiB) uploaded with COPY FROM STDIN and checked by the server, and
 * a 16 MiB value downloaded. The server runs from a temporary data directory on a free port, as
 * the postgres user when this runs as root (initdb refuses root).
 */
import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { makeKeys, tempDir, type Teardown } from '../helpers/cli.js'
import { freePort, skipUnless, startForward, startServe } from '../helpers/tunnel.js'

const run = promisify(execFile)
const root = process.getuid?.() === 0

function skip(): string | false {
  const missing = skipUnless('initdb', 'pg_ctl', 'psql')
  if (missing || !root) return missing
  return spawnSync('id', ['-u', 'postgres']).status === 0 ? false : 'running as root needs a postgres user to run the server as'
}

/** A program run as the postgres user when we are root. */
function asServerUser(program: string, args: string[]): Promise<{ stdout: string }> {
  return root ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args)
}

async function startPostgres(t: Teardown): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-pg-'))
  if (root) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres']).stdout.toString()), Number(spawnSync('id', ['-g', 'postgres']).stdout.toString()))
  const data = join(dir, 'data')
  await asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  await asServerUser('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'])
  t.teardown(async () => {
    await asServerUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })
  return port
}

t.test('psql through forward and serve reaches a real PostgreSQL', { skip: skip() }, async t => {
  const keys = makeKeys(tempDir(t))
  const pg = await startPostgres(t)
  const serve = await startServe(t, keys, pg)
  const forward = await startForward(t, keys, serve.port)
  const psql = (sql: string, input?: string): Promise<string> => new Promise((resolve, reject) => {
    const child = execFile('psql', ['-h', '127.0.0.1', '-p', String(forward.port), '-U', 'postgres', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { env: { ...process.env, PGCONNECT_TIMEOUT: '30', PGSSLMODE: 'disable' }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout))
    child.stdin!.end(input ?? '')
  })

  t.equal(await psql("select 'hello through the tunnel'"), 'hello through the tunnel\n')

  await psql('create table rows (i int primary key, v text not null)')
  const lines: string[] = []
  for (let i = 0; i < 100_000; i++) lines.push(`${i}\t${createHash('md5').update(String(i)).digest('hex')}`)
  const copied = lines.join('\n') + '\n'
  await psql('copy rows from stdin', copied)
  const expected = createHash('md5').update(lines.map(l => l.split('\t')[1]).join('')).digest('hex')
  t.equal(await psql("select count(*) || ' ' || md5(string_agg(v, '' order by i)) from rows"), `100000 ${expected}\n`, 'COPY FROM STDIN: every row arrived, checked by the server')
  t.equal(await psql("select count(*) from rows where v = md5(i::text)"), '100000\n', 'the server computes the same md5 of every row')

  const big = await psql("select repeat('0123456789abcdef', 1048576)")
  t.equal(big, '0123456789abcdef'.repeat(1_048_576) + '\n', '16 MiB value downloaded whole')

  t.match(serve.proc.stderr(), /: tunnel SHA256:\S+ from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+: .*, closed$/m)
  t.notMatch(serve.proc.stderr() + forward.proc.stderr(), /ERR_/, 'no failure logged')
})
