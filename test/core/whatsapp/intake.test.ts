import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { journalPlaintext, pollMessageContent, voteFromMessage } from '../../../core/whatsapp/intake.ts'
import { createEnvelopeIndex } from '../../../core/whatsapp/baileys-socket.ts'
import { recordingSink } from './fake-socket.ts'
import { fakeLidMapping, OWN, OWN_PN, rig, vote, voter } from '../votes/fixtures.ts'


/**
 * What the Signal layer journals before Baileys acknowledges a message: every vote, however
 * it is wrapped, and the polls this account creates on its other devices, with the key and
 * timestamp the messages.upsert sighting will carry.
 */

const GROUP = '120363000000000001@g.us'
const alice = voter(1)
const update = (ts?: number): proto.Message.IPollUpdateMessage => ({
  pollCreationMessageKey: { remoteJid: GROUP, id: '3EB0POLL', fromMe: true },
  vote: { encPayload: new Uint8Array(40).fill(7), encIv: new Uint8Array(12).fill(1) },
  ...(ts ? { senderTimestampMs: ts } : {}),
})
const envelope = { key: { remoteJid: GROUP, participant: alice.lid, participantAlt: alice.pn, id: 'VOTE1', fromMe: false }, timestampMs: 1_700_000_000_000 }
const deps = (sink = recordingSink()) => ({ votes: sink, now: () => 1_800_000_000_000, isOwn: (jid: string) => ['15550000001', '99990000001'].includes(jid.split(/[:@]/)[0]!) })

const wrapped = suite('journalPlaintext')

const wrappers: Array<[string, (m: proto.IMessage) => proto.IMessage]> = [
  ['plain', (m) => m],
  ['ephemeralMessage', (m) => ({ ephemeralMessage: { message: m } })],
  ['viewOnceMessageV2', (m) => ({ viewOnceMessageV2: { message: m } })],
  ['editedMessage', (m) => ({ editedMessage: { message: m } })],
  ['ephemeral inside view-once', (m) => ({ viewOnceMessage: { message: { ephemeralMessage: { message: m } } } })],
]
for (const [name, wrap] of wrappers) {
  wrapped(`a vote wrapped as ${name} is journaled before the ack`, async () => {
    const sink = recordingSink()
    await journalPlaintext({ chatId: GROUP, author: `${alice.lid.split('@')[0]}:3@lid`, message: wrap({ pollUpdateMessage: update(1234) }), envelope }, deps(sink))
    assert.equal(sink.calls.votes, ['signal:3EB0POLL:VOTE1'])
  })
}

wrapped('the Signal-layer sighting carries the same key and timestamp as the upsert one', async () => {
  const seen: unknown[] = []
  const sink = { ...recordingSink(), ingestVote: async (raw: unknown) => { seen.push(raw) } }
  const message = { ephemeralMessage: { message: { pollUpdateMessage: update() } } }
  await journalPlaintext({ chatId: GROUP, author: alice.lid, message, envelope }, deps(sink))
  const upsert = voteFromMessage({ key: envelope.key, message, messageTimestamp: envelope.timestampMs / 1000 }, 'notify', 1_800_000_000_000)
  assert.equal(seen, [{ ...upsert, source: 'signal' }])
  assert.is((seen[0] as { senderTimestampMs: number }).senderTimestampMs, envelope.timestampMs, 'no senderTimestampMs: the message timestamp, not the arrival time')
})

wrapped('a poll created on another device of the account is recorded before the ack, and before its votes', async () => {
  const order: string[] = []
  const sink = { ...recordingSink(), recordPollCreation: async (p: { id: string }) => { order.push(`poll:${p.id}`) }, ingestVote: async () => { order.push('vote') } }
  const content = pollMessageContent({ question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1, secret: new Uint8Array(32).fill(9) })
  const own = { key: { remoteJid: GROUP, participant: OWN_PN, id: 'PHONEPOLL', fromMe: true }, timestampMs: 1_700_000_000_000 }
  await journalPlaintext({ chatId: GROUP, author: OWN.pn, message: { ephemeralMessage: { message: content } }, envelope: own }, deps(sink))
  assert.equal(order, ['poll:PHONEPOLL'])
})

wrapped('a phone-created poll recorded at the Signal layer decrypts the votes that follow', async () => {
  const r = await rig({ mapping: fakeLidMapping() })
  const secret = new Uint8Array(32).fill(4)
  const content = pollMessageContent({ question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1, secret })
  const own = { key: { remoteJid: GROUP, participant: OWN_PN, id: 'PHONEPOLL', fromMe: true }, timestampMs: 1_700_000_000_000 }
  await journalPlaintext({ chatId: GROUP, author: OWN.pn, message: content, envelope: own }, { votes: r.engine, now: Date.now, isOwn: (jid: string) => jid.startsWith('15550000001') })
  assert.is(r.engine.status('PHONEPOLL')?.status, 'received')
  await r.engine.ingestVote(vote({ id: 'PHONEPOLL', secret, chatId: GROUP }, alice, { choose: ['Sushi'], ts: 1000 }))
  assert.equal(r.engine.get('PHONEPOLL')!.results, { Pizza: 0, Sushi: 1 })
})

wrapped('a journal that cannot commit fails the decryption (no ack follows)', async () => {
  const sink = { ...recordingSink(), ingestVote: async () => { throw new Error('database or disk is full') } }
  await journalPlaintext({ chatId: GROUP, author: alice.lid, message: { pollUpdateMessage: update(5) }, envelope }, deps(sink))
    .then(() => assert.unreachable('must reject'), (err: Error) => assert.match(err.message, /full/))
})

// ---

const envelopes = suite('createEnvelopeIndex')

const stanza = (attrs: Record<string, string>, ciphertext: Uint8Array): BinaryNode => ({
  tag: 'message', attrs, content: [{ tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: ciphertext }],
})

envelopes('finds the stanza of a ciphertext and decodes its key as messages.upsert will', async () => {
  const ix = createEnvelopeIndex(() => ({ id: OWN.pn, lid: OWN.lid }))
  const bytes = new Uint8Array([1, 2, 3])
  ix.remember(stanza({ id: 'M1', from: GROUP, participant: `${alice.lid.split('@')[0]}:7@lid`, participant_pn: alice.pn, t: '1700000000', addressing_mode: 'lid' }, bytes))
  const env = ix.lookup(bytes)
  assert.ok(env)
  assert.is(env.key.id, 'M1')
  assert.is(env.key.remoteJid, GROUP)
  assert.is(env.key.participant, alice.lid, 'without the device, as after cleanMessage')
  assert.is(env.key.participantAlt, alice.pn)
  assert.is(env.key.fromMe, false)
  assert.is(env.timestampMs, 1_700_000_000_000)
  assert.is(ix.lookup(new Uint8Array([1, 2, 3])), undefined, 'by identity of the bytes Baileys decrypts, not by value')
})

envelopes('an own message to a person is keyed by the recipient chat', async () => {
  const ix = createEnvelopeIndex(() => ({ id: OWN.pn, lid: OWN.lid }))
  const bytes = new Uint8Array([4])
  ix.remember({ tag: 'message', attrs: { id: 'M2', from: '15550000001:0@s.whatsapp.net', recipient: alice.pn, t: '1700000001' },
    content: [{ tag: 'enc', attrs: { v: '2', type: 'msg' }, content: bytes }] })
  const env = ix.lookup(bytes)!
  assert.is(env.key.remoteJid, alice.pn)
  assert.is(env.key.fromMe, true)
})

envelopes('an undecodable stanza, or none, gives no envelope', async () => {
  const ix = createEnvelopeIndex(() => ({ id: OWN.pn }))
  const bytes = new Uint8Array([5])
  ix.remember({ tag: 'message', attrs: { from: GROUP }, content: [{ tag: 'enc', attrs: {}, content: bytes }] })
  assert.is(ix.lookup(bytes), undefined)
  assert.is(ix.lookup(new Uint8Array([6])), undefined)
})

wrapped.run()
envelopes.run()
