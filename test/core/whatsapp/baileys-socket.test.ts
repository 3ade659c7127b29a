import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG, encodeWAMessage, generateSignalPubKey } from '@whiskeysockets/baileys'
import type { proto } from '@whiskeysockets/baileys'
import { pino } from 'pino'
import { createSqliteAuth, sqliteKeyWriter } from '../../../store/sqlite/auth.ts'
import { createSqliteJournal } from '../../../store/sqlite/votes.ts'
import { migrate } from '../../../store/sqlite/schema.ts'
import { openMemoryDb, type Db } from '../../../store/sqlite/db.ts'
import { createBaileysSocket, journalingSignalRepository } from '../../../core/whatsapp/baileys-socket.ts'
import { createMemoryStore } from '../../../store/memory/index.ts'
import type { SignalPlaintext } from '../../../core/whatsapp/baileys-socket.ts'
import type { AlongsideWrites } from '../../../store/ports.ts'

/**
 * The Signal repository pollwire gives Baileys: each plaintext is reported before Baileys sees
 * it, and the Signal state that decrypting it changed is committed only after the report, so a
 * crash while the vote is being journaled leaves the message decryptable when WhatsApp
 * redelivers it.
 */

const log = pino({ level: 'silent' })
const GROUP = '120363000000000001@g.us'
const VOTER = '80000000001@lid'
const ME = '900000000000001:3@lid'

type Repo = ReturnType<typeof DEFAULT_CONNECTION_CONFIG.makeSignalRepository>

const quiet = { failed() {}, committed() {} }

async function peer(make = DEFAULT_CONNECTION_CONFIG.makeSignalRepository) {
  const db = openMemoryDb()
  migrate(db)
  const state = await createSqliteAuth(db, 'default', quiet).load()
  const keys = addTransactionCapability(state.keys, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
  return { db, creds: state.creds, repo: make({ creds: state.creds, keys }, log, async () => []) as Repo }
}

/** Every Signal key row as stored, to see whether a decryption committed anything. */
const snapshot = (db: Db) => JSON.stringify(db.prepare('SELECT type, id, json FROM auth_keys ORDER BY type, id').all())

const vote: proto.IMessage = {
  pollUpdateMessage: {
    pollCreationMessageKey: { remoteJid: GROUP, id: '3EB0POLL', fromMe: true },
    vote: { encPayload: new Uint8Array(40).fill(7), encIv: new Uint8Array(12).fill(1) },
    senderTimestampMs: 1000,
  },
}

async function receiver(onPlaintext: (p: SignalPlaintext, committed: boolean) => Promise<void>) {
  let db: Db | undefined
  let before = ''
  const me = await peer((auth, logger, pnToLid) => journalingSignalRepository(async (p) => {
    await onPlaintext(p, snapshot(db!) !== before)
  })(auth, logger, pnToLid))
  db = me.db
  return { ...me, mark: () => { before = snapshot(me.db) }, changed: () => snapshot(me.db) !== before }
}

async function groupSetup(rx: Awaited<ReturnType<typeof receiver>>) {
  const sender = await peer()
  const { senderKeyDistributionMessage } = await sender.repo.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage({ conversation: 'hi' }) })
  await rx.repo.processSenderKeyDistributionMessage({ authorJid: VOTER, item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage } })
  const { ciphertext } = await sender.repo.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage(vote) })
  return ciphertext
}

async function directSetup(rx: Awaited<ReturnType<typeof receiver>>) {
  const sender = await peer()
  await sender.repo.injectE2ESession({
    jid: ME,
    session: {
      registrationId: rx.creds.registrationId,
      identityKey: generateSignalPubKey(rx.creds.signedIdentityKey.public),
      signedPreKey: {
        keyId: rx.creds.signedPreKey.keyId,
        publicKey: generateSignalPubKey(rx.creds.signedPreKey.keyPair.public),
        signature: rx.creds.signedPreKey.signature,
      },
      // no one-time prekey: the session starts from the signed prekey alone, as Signal allows
    } as Parameters<Repo['injectE2ESession']>[0]['session'],
  })
  // the first message sets the session up; the vote is the second, a plain ratchet step
  const first = await sender.repo.encryptMessage({ jid: ME, data: encodeWAMessage({ conversation: 'hi' }) })
  await rx.repo.decryptMessage({ jid: VOTER, type: first.type, ciphertext: first.ciphertext })
  return sender.repo.encryptMessage({ jid: ME, data: encodeWAMessage(vote) })
}

const repo = suite('journalingSignalRepository')

repo('a group vote is reported before the sender key step is committed', async () => {
  const seen: Array<{ p: SignalPlaintext; committed: boolean }> = []
  const rx = await receiver(async (p, committed) => { seen.push({ p, committed }) })
  const ciphertext = await groupSetup(rx)
  rx.mark()
  await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext })
  const reported = seen.find((s) => s.p.message.pollUpdateMessage)
  assert.ok(reported, 'the vote was reported')
  assert.is(reported.p.chatId, GROUP)
  assert.is(reported.p.author, VOTER)
  assert.is(reported.committed, false, 'nothing committed while the vote was being journaled')
  assert.ok(rx.changed(), 'committed afterwards')
})

repo('a failed journal write leaves a group vote decryptable for the redelivery', async () => {
  let fail = true
  const rx = await receiver(async (p) => { if (p.message.pollUpdateMessage && fail) throw new Error('disk full') })
  const ciphertext = await groupSetup(rx)
  rx.mark()
  await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext }).then(
    () => assert.unreachable('the decryption must fail with the journal'),
    (err: Error) => assert.is(err.message, 'disk full'))
  fail = false
  const again = await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext })
  assert.ok(again.length > 0, 'the same ciphertext decrypts when it comes again')
})

repo('a 1:1 vote is reported before the session step is committed, and survives a failed journal write', async () => {
  let fail = true
  const seen: boolean[] = []
  const rx = await receiver(async (p, committed) => {
    if (!p.message.pollUpdateMessage) return
    seen.push(committed)
    if (fail) throw new Error('disk full')
  })
  const { type, ciphertext } = await directSetup(rx)
  rx.mark()
  await rx.repo.decryptMessage({ jid: VOTER, type, ciphertext }).then(() => assert.unreachable('must fail'), () => undefined)
  fail = false
  await rx.repo.decryptMessage({ jid: VOTER, type, ciphertext })
  assert.equal(seen, [false, false], 'reported twice, before any commit each time')
})

/** A receiver whose key writes are held back and committed by the vote's journal transaction, as the server wires it. */
async function heldReceiver(journalVote: (p: SignalPlaintext, commit: () => Promise<void>) => Promise<void>, holdCommit?: (c: Promise<unknown>) => boolean,
  commitKeys?: (alongside: AlongsideWrites, commit: () => Promise<void>) => Promise<void>) {
  const db = openMemoryDb()
  migrate(db)
  const auth = createSqliteAuth(db, 'default', quiet)
  const state = await auth.load()
  const journal = createSqliteJournal(db, 'default', quiet, undefined, undefined, sqliteKeyWriter(db, 'default'))
  const keys = addTransactionCapability(state.keys, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
  let polls = 0
  const make = journalingSignalRepository(async (p) => {
    if (!p.message.pollUpdateMessage) return
    const record = { id: `P${++polls}`, chatId: GROUP, question: 'Q', options: ['A'], hashes: ['h'], selectableCount: 1,
      secret: new Uint8Array(32), timestamp: 1, status: 'sent' as const }
    await journalVote(p, () => journal.commit({ polls: [record], alongside: p.alongside ? [p.alongside] : [] }))
  }, undefined, auth, holdCommit, commitKeys && ((a) => commitKeys(a, () => journal.commit({ alongside: [a] }))))
  const repo = make({ creds: state.creds, keys }, log, async () => []) as Repo
  let before = ''
  return { db, creds: state.creds, repo, journal, mark: () => { before = snapshot(db) }, changed: () => snapshot(db) !== before }
}

repo('held key writes: a group vote\'s sender-key step commits in the vote\'s own transaction, not before', async () => {
  const seen: Array<{ early: boolean; withVote: boolean }> = []
  const rx: Awaited<ReturnType<typeof heldReceiver>> = await heldReceiver(async (_p, commit) => {
    // As the engine's group commit does: the batch is written on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve))
    const early = rx.changed()
    await commit()
    seen.push({ early, withVote: rx.changed() })
  })
  const ciphertext = await groupSetup(rx)
  rx.mark()
  await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext })
  assert.equal(seen, [{ early: false, withVote: true }], 'nothing committed before the vote; the keys with it')
  assert.equal((await rx.journal.polls()).length, 1)
})

repo('held key writes: a failed journal write commits no key, and the 1:1 vote decrypts when it comes again', async () => {
  let fail = true
  const rx: Awaited<ReturnType<typeof heldReceiver>> = await heldReceiver(async (_p, commit) => {
    await new Promise((resolve) => setImmediate(resolve))
    if (fail) throw new Error('disk full')
    await commit()
  })
  const { type, ciphertext } = await directSetup(rx)
  rx.mark()
  await rx.repo.decryptMessage({ jid: VOTER, type, ciphertext }).then(() => assert.unreachable('must fail'), (err: Error) => assert.is(err.message, 'disk full'))
  assert.not.ok(rx.changed(), 'no key written')
  fail = false
  await rx.repo.decryptMessage({ jid: VOTER, type, ciphertext })
  assert.ok(rx.changed(), 'written with the vote')
  assert.equal((await rx.journal.polls()).length, 1)
})

repo('held commit (the outbound gate): the decryption returns before the vote commits, and the keys commit with the vote', async () => {
  const held: Array<Promise<unknown>> = []
  let release!: () => void
  const gateOpen = new Promise<void>((resolve) => { release = resolve })
  const rx: Awaited<ReturnType<typeof heldReceiver>> = await heldReceiver(async (_p, commit) => {
    await gateOpen
    await commit()
  }, (c) => { held.push(c); return true })
  const ciphertext = await groupSetup(rx)
  rx.mark()
  await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext })
  assert.is(held.length, 1, 'the commit was handed over')
  assert.not.ok(rx.changed(), 'returned before anything committed')
  assert.equal((await rx.journal.polls()).length, 0)
  release()
  await held[0]
  assert.ok(rx.changed(), 'keys written')
  assert.equal((await rx.journal.polls()).length, 1, 'with the vote')
})

repo('held key writes without a vote: a sender-key distribution and a message that is no vote commit with the next votes (commitKeys), nothing before', async () => {
  const held: Array<Promise<unknown>> = []
  const handed: string[] = []
  let release!: () => void
  let gateOpen = new Promise<void>((resolve) => { release = resolve })
  const rx = await heldReceiver(async (_p, commit) => {
    await new Promise((resolve) => setImmediate(resolve)) // a later turn, as the group commit: the keys are staged by then
    await commit()
  }, (c) => { held.push(c); return true }, async (_a, commit) => {
    handed.push('keys')
    // As the engine's group commit does: the batch is written on a later turn, here when the test says.
    await gateOpen
    await commit()
  })
  const step = async (what: string, work: () => Promise<unknown>) => {
    rx.mark()
    gateOpen = new Promise<void>((resolve) => { release = resolve })
    const before = handed.length
    await work()
    assert.is(handed.length, before + 1, `${what}: its keys went to commitKeys`)
    assert.not.ok(rx.changed(), `${what}: returned before anything committed`)
    release()
    await held[held.length - 1]
    assert.ok(rx.changed(), `${what}: written by that commit`)
  }
  const sender = await peer()
  const first = await sender.repo.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage({ conversation: 'hi' }) })
  await step('a sender-key distribution', () => rx.repo.processSenderKeyDistributionMessage({ authorJid: VOTER,
    item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: first.senderKeyDistributionMessage } }))
  await step('a group message that is no vote', () => rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: first.ciphertext }))
  const { ciphertext } = await sender.repo.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage(vote) })
  rx.mark()
  const before = handed.length
  await rx.repo.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: ciphertext })
  await held[held.length - 1]
  assert.is(handed.length, before, 'a vote carries its own keys: nothing more for commitKeys')
  assert.ok(rx.changed())
  assert.equal((await rx.journal.polls()).length, 1)
})

repo('the real socket sends every frame through the outbound gate (in effect, not only written)', async () => {
  const auth = createMemoryStore().account('default').auth
  // A port nothing listens on: the socket is made, then closed without reaching anything.
  const sock = createBaileysSocket({ auth: await auth.load(), logger: log, waWebSocketUrl: 'ws://127.0.0.1:9', getMessage: async () => undefined,
    onPlaintext: async () => undefined, keyWrites: auth })
  const raw = (sock as unknown as { ws: { socket?: { send: unknown } } }).ws.socket
  assert.ok(raw, 'Baileys made its WebSocket when the socket was made')
  assert.ok(Object.hasOwn(raw, 'send') && raw.send !== Object.getPrototypeOf(raw).send, 'send replaced on the instance')
  sock.end(undefined)
})

repo.run()
