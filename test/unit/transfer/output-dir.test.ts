/**
 * OutputDir (src/transfer/output-dir.ts, SPEC 8.7): the checks made while a transfer creates its
 * directories, after the receiver's pre-Ready check (receive.ts) passed. A link or a file planted
 * on the way between the two is refused with ERR_IO and nothing is written through it; a
 * directory swapped for a link after it was checked is caught by verifyParent.
 */
import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OutputDir } from '../../../src/transfer/output-dir.js'

const base = realpathSync(mkdtempSync(join(tmpdir(), 'secure-pipe-outdir-')))
t.teardown(() => rmSync(base, { recursive: true, force: true }))
let n = 0
/** A fresh output directory and an outside directory that must stay empty. */
function dirs(): { root: string, outside: string } {
  n++
  const root = join(base, `out-${n}`), outside = join(base, `outside-${n}`)
  mkdirSync(root); mkdirSync(outside)
  return { root, outside }
}

t.test('open: the directory must exist and be a directory', async t => {
  const { root } = dirs()
  await t.rejects(OutputDir.open(join(root, 'missing')), { code: 'ERR_IO', message: /cannot use output directory .*missing/ })
  writeFileSync(join(root, 'f'), 'x')
  await t.rejects(OutputDir.open(join(root, 'f')), { code: 'ERR_USAGE', message: /f is not a directory/ })
  const out = await OutputDir.open(root)
  t.equal(out.pathOf(''), root, 'the empty name is the directory itself')
  t.equal(out.pathOf('a/b'), join(root, 'a', 'b'))
})

t.test('ensureParents creates the missing directories 0700, shallowest first, and lists them', async t => {
  const { root } = dirs()
  const out = await OutputDir.open(root)
  await out.ensureParents('a/b/c.txt')
  t.same(out.created, ['a', 'a/b'])
  t.equal(statSync(join(root, 'a', 'b')).mode & 0o777, 0o700)
  await out.ensureParents('top.txt')
  t.same(out.created, ['a', 'a/b'], 'a name at the top needs nothing')
  t.equal(await out.existing('nothing'), undefined, 'existing: undefined for a missing name')
})

t.test('SPEC 8.7: a link planted on the way is refused, never followed', async t => {
  const { root, outside } = dirs()
  const out = await OutputDir.open(root)
  symlinkSync(outside, join(root, 'sub'))
  await t.rejects(out.ensureParents('sub/deeper/x'), { code: 'ERR_IO', message: /sub is a symbolic link; secure-pipe never writes through links, so "sub" was refused/ })
  await t.rejects(out.ensureDirectory('sub'), { code: 'ERR_IO', message: /is a symbolic link/ })
  t.same(readdirSync(outside), [], 'nothing created through the link')
  t.same(out.created, [])
})

t.test('SPEC 8.7: a file on the way is refused', async t => {
  const { root } = dirs()
  const out = await OutputDir.open(root)
  writeFileSync(join(root, 'plain'), 'x')
  await t.rejects(out.ensureParents('plain/x'), { code: 'ERR_IO', message: /plain exists and is not a directory, so nothing can be written inside "plain"/ })
  const lstatFails = join(root, 'plain', 'x')
  await t.rejects(out.existing('plain/x'), { code: 'ERR_IO', message: new RegExp(`cannot check ${lstatFails}`) }, 'an lstat error other than ENOENT is ERR_IO')
})

t.test('SPEC 8.7: verifyParent catches a checked directory swapped for a link, inside or outside', async t => {
  const { root, outside } = dirs()
  const out = await OutputDir.open(root)
  await out.ensureParents('d/x')
  await t.resolves(out.verifyParent('d/x'), 'unchanged: fine')
  await t.resolves(out.verifyParent('top'), 'a name at the top: the root itself')
  mkdirSync(join(root, 'other'))
  renameSync(join(root, 'd'), join(root, 'd-old'))
  symlinkSync(join(root, 'other'), join(root, 'd'))
  await t.rejects(out.verifyParent('d/x'), { code: 'ERR_IO', message: /d changed into a link during the transfer/ }, 'a link to elsewhere inside')
  rmSync(join(root, 'd'))
  symlinkSync(outside, join(root, 'd'))
  await t.rejects(out.verifyParent('d/x'), { code: 'ERR_IO', message: /d now leads outside the output directory/ }, 'a link outside')
  symlinkSync(`${root}-sibling`, join(root, 'e'))
  mkdirSync(`${root}-sibling`)
  await t.rejects(out.verifyParent('e/x'), { code: 'ERR_IO', message: /e now leads outside/ }, 'a sibling whose name starts with the root\'s is outside')
  rmSync(join(root, 'd'))
  await t.rejects(out.verifyParent('d/x'), { code: 'ERR_IO', message: /cannot check/ }, 'a removed directory')
})
