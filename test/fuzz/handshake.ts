/**
 * Handshake fuzz targets (issue 5): HandshakeStage -> DecryptStage, as SecureStream composes them,
 * fed frames directly. `server`: ServerHandshake under test, driven by an honest ClientHandshake
 * whose frames (ClientHello, ClientFinished, a data record, the close record) are mutated,
 * dropped, or preceded by a generated message. `client`: the same the other way round.
 */
import fc from 'fast-check'
import { Readable, pipeline, type Duplex } from 'node:stream'
import { RECORD_TYPE } from '../../src/constants.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { HandshakeStage } from '../../src/handshake/stream.js'
import type { SessionKeys } from '../../src/handshake/keyschedule.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import { RecordProtector } from '../../src/record/protector.js'
import { patterned, settle, type Outcome } from '../helpers/streams.js'
import { RUN_TIMEOUT_MS, judge, type FuzzKeys, type Stats } from './judge.js'
import { arbMessage, arbMutation, clientHelloFields, describeMutation, mutate, serverHelloFields, type Fields, type Mutation } from './mutate.js'

const PAYLOAD = patterned(300, 5)

/** What happens to the driver's four frames: 0 first handshake message, 1 Finished, 2 data record, 3 close record. */
export interface HandshakePlan {
  edits: Array<{ frame: number, mutation: Mutation }>
  /** End the input instead of sending this frame and the rest. */
  stopAt: number | null
  /** A generated message sent just before frame `at`. */
  extra: { at: number, body: Uint8Array } | null
}

export const arbHandshakePlan: fc.Arbitrary<HandshakePlan> = fc.record({
  // Mostly the handshake messages; the records get their own target too.
  edits: fc.array(fc.record({ frame: fc.constantFrom(0, 0, 0, 1, 1, 2, 3), mutation: arbMutation }), { maxLength: 3 }),
  stopAt: rarely(fc.nat(3)),
  extra: rarely(fc.record({ at: fc.nat(3), body: arbMessage })),
})

/** `arb` one time in six, null otherwise. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb })
}

export function describePlan(p: HandshakePlan): string {
  return JSON.stringify({ ...p, edits: p.edits.map(e => ({ frame: e.frame, mutation: JSON.parse(describeMutation(e.mutation)) as unknown })), extra: p.extra && { at: p.extra.at, body: Buffer.from(p.extra.body).toString('hex') } })
}

/** A stage under test fed one frame at a time; the frames it sends are collected in order. */
class StageRig {
  readonly stage: HandshakeStage
  readonly sent: Buffer[] = []
  readonly outcome: Promise<Outcome>
  #source = new Readable({ objectMode: true, read() {} })
  #wake: Array<() => void> = []
  #over = false
  modified = false

  constructor(machine: ClientHandshake | ServerHandshake, readonly plan: HandshakePlan, readonly fields: Fields[]) {
    this.stage = new HandshakeStage({ machine, send: (frame, done) => { this.sent.push(frame); this.#notify(); setImmediate(() => done?.()) }, timeoutMs: RUN_TIMEOUT_MS })
    const decrypt = new DecryptStage({ keys: this.stage.keys.then(k => k.receive) })
    this.outcome = settle(decrypt, RUN_TIMEOUT_MS).finally(() => { this.#over = true; this.#notify() })
    pipeline(this.#source, this.stage, decrypt as Duplex, () => {})
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w()
  }

  /** Send the driver's frame `i` as the plan says; false once the plan stopped the input. */
  feed(i: number, frame: Buffer): boolean {
    if (this.plan.stopAt !== null && i >= this.plan.stopAt) {
      this.modified = true
      return false
    }
    if (this.plan.extra?.at === i) {
      this.modified = true
      this.#source.push(Buffer.from(this.plan.extra.body))
    }
    let out = frame
    for (const e of this.plan.edits) if (e.frame === i) out = mutate(out, e.mutation, this.fields[i])
    if (!out.equals(frame)) this.modified = true
    this.#source.push(out)
    return true
  }

  /** The stage's `i`-th sent frame, or null if it failed or ended first (bounded). */
  async sentFrame(i: number): Promise<Buffer | null> {
    const deadline = Date.now() + RUN_TIMEOUT_MS
    while (this.sent.length <= i && !this.#over && !this.stage.destroyed && Date.now() < deadline) {
      await new Promise<void>(resolve => {
        this.#wake.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return this.sent[i] ?? null
  }

  /** End the input and wait for the outcome. */
  async finish(): Promise<Outcome> {
    this.#source.push(null)
    try {
      return await this.outcome
    } finally {
      this.stage.destroy()
    }
  }
}

/** The data record and the close record, sealed with the driver's send keys. */
function records(keys: SessionKeys): Buffer[] {
  const p = new RecordProtector({ ...keys.send, secret: Buffer.from(keys.send.secret) })
  return [Buffer.concat(p.seal(RECORD_TYPE.data, PAYLOAD)), Buffer.concat(p.seal(RECORD_TYPE.close, Buffer.alloc(0)))]
}

function attempt<T>(fn: () => T): T | null {
  try { return fn() } catch { return null }
}

/** The server under test; the driver is an honest client. */
export async function runServerTarget(keys: FuzzKeys, plan: HandshakePlan, stats?: Stats): Promise<void> {
  const client = new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  const machine = new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: new AuthorizedKeys([keys.client.publicKey]) })
  const rig = new StageRig(machine, plan, [clientHelloFields(client.clientHello), { lengths: [] }, { lengths: [] }, { lengths: [] }])
  const outcome = await driveServer(rig, client)
  judge(outcome, rig.modified, PAYLOAD, stats)
}

async function driveServer(rig: StageRig, client: ClientHandshake): Promise<Outcome> {
  if (!rig.feed(0, client.clientHello)) return rig.finish()
  const serverHello = await rig.sentFrame(0)
  const clientFinished = serverHello && attempt(() => client.onServerHello(serverHello))
  if (!clientFinished || !rig.feed(1, clientFinished)) return rig.finish()
  const serverFinished = await rig.sentFrame(1)
  const keys = serverFinished && attempt(() => client.onServerFinished(serverFinished))
  if (!keys) return rig.finish()
  const [data, close] = records(keys)
  if (rig.feed(2, data!)) rig.feed(3, close!)
  return rig.finish()
}

/** The client under test; the driver is an honest server. */
export async function runClientTarget(keys: FuzzKeys, plan: HandshakePlan, stats?: Stats): Promise<void> {
  const server = new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: new AuthorizedKeys([keys.client.publicKey]) })
  const machine = new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  const rig = new StageRig(machine, plan, [serverHelloFields(), { lengths: [] }, { lengths: [] }, { lengths: [] }])
  rig.stage.start()
  const outcome = await driveClient(rig, server)
  judge(outcome, rig.modified, PAYLOAD, stats)
}

async function driveClient(rig: StageRig, server: ServerHandshake): Promise<Outcome> {
  const clientHello = await rig.sentFrame(0)
  const serverHello = clientHello && await server.onClientHello(clientHello).catch(() => null)
  if (!serverHello || !rig.feed(0, serverHello)) return rig.finish()
  const clientFinished = await rig.sentFrame(1)
  const answer = clientFinished && attempt(() => server.onClientFinished(clientFinished))
  if (!answer || !rig.feed(1, answer.serverFinished)) return rig.finish()
  const [data, close] = records(answer.keys)
  if (rig.feed(2, data!)) rig.feed(3, close!)
  return rig.finish()
}
