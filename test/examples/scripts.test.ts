/**
 * What is documented is executed: examples/one-process.mjs and examples/many-clients.mjs runs here as a user would run it, and its output is checked.
 */
import t from 'tap'
import { example } from '../helpers/examples.js'

t.test('examples/one-process.mjs: a server and a client in one process exchange a request and its reply', async t => {
  t.same(await example('examples/one-process.mjs'), ['connected, cipher aes-128-ccm', 'reply: HELLO OVER SECURE-PIPE'])
})

t.test('examples/many-clients.mjs: four clients at once each get their own answer; a stranger gets ERR_AUTH on both ends', async t => {
  const lines = await example('examples/many-clients.mjs')
  t.same(lines.slice(0, 4), [1, 2, 3, 4].map(i => `client ${i} sent ${i * 100_000} bytes`))
  t.same(lines.slice(4).sort(), ['server refused a peer: ERR_AUTH', 'the stranger was refused: ERR_AUTH'])
})

t.test('examples/five-stages.mjs: the five stages composed by hand over TCP, with an authorize callback', async t => {
  const lines = await example('examples/five-stages.mjs')
  t.match(lines[0], /^server: asked about SHA256:/)
  t.same(lines.slice(1), ['client: the server says: you sent 100000 bytes'])
})

t.test('examples/transfer.mjs: a tree and a file by name through sendEntries and receiveEntries', async t => {
  const lines = await example('examples/transfer.mjs')
  t.same(lines.sort(), [
    'inbox/photos/a.txt: first file',
    'received directory photos, file photos/a.txt, directory photos/empty, file notes.md',
    'sent 2 files, 19 bytes, durable',
  ].sort())
})
