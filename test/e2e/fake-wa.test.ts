/**
 * The fake WhatsApp server, proven against the real Baileys client (in-process).
 *
 * Run:  node --import tsx test/e2e/fake-wa.test.ts
 *   or: node --import tsx node_modules/uvu/bin.js test/e2e "fake-wa\.test"
 * Not `npx uvu -r tsx ...`: with -r, uvu require()s test files, and tsx's require hook cannot
 * resolve whatsapp-rust-bridge (a Baileys dependency whose package.json only exports "import").
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import makeWASocket, { decryptPollVote, DisconnectReason, proto, useMultiFileAuthState } from '@whiskeysockets/baileys'
import type { BaileysEventMap, ConnectionState, WAMessage } from '@whiskeysockets/baileys'
import pino from 'pino'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startFakeWhatsApp, trustTestRoot } from './fake-wa/index.ts'
import type { FakeContact, FakeWhatsApp } from './fake-wa/index.ts'

const OWNER_PN = '15550000001'
const OWNER_LID = '900000000000001'
const OWNER_PN_JID = `${OWNER_PN}@s.whatsapp.net`
const OWNER_LID_JID = `${OWNER_LID}@lid`
const WAIT_MS = 5000

type WASocket = ReturnType<typeof makeWASocket>
type Upsert = { message: WAMessage; type: BaileysEventMap['messages.upsert']['type'] }
type StatusError = { output?: { statusCode?: number } }

/** One Baileys client as an app would run it, plus what it emitted. */
type Client = {
	sock: WASocket
	updates: Partial<ConnectionState>[]
	upserts: Upsert[]
	history: BaileysEventMap['messaging-history.set'][]
	/** resolves with the status code of the close */
	closed: Promise<number | undefined>
}

const logger = pino({ level: 'silent' })
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Polls `check` every 10 ms, bounded by `timeoutMs`. */
async function until<T>(check: () => T | undefined, label: string, timeoutMs = WAIT_MS): Promise<T> {
	const deadline = Date.now() + timeoutMs
	for (;;) {
		const value = check()
		if (value !== undefined) {
			return value
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${label}`)
		}
		await new Promise(resolve => setTimeout(resolve, 10))
	}
}

async function openClient(fake: FakeWhatsApp, authDir: string): Promise<Client> {
	const { state, saveCreds } = await useMultiFileAuthState(authDir)
	const sock = makeWASocket({ waWebSocketUrl: fake.url, auth: state, logger, markOnlineOnConnect: false })
	const client: Client = {
		sock,
		updates: [],
		upserts: [],
		history: [],
		closed: new Promise(resolve => {
			sock.ev.on('connection.update', update => {
				if (update.connection === 'close') {
					resolve((update.lastDisconnect?.error as StatusError | undefined)?.output?.statusCode)
				}
			})
		})
	}
	sock.ev.on('creds.update', saveCreds)
	sock.ev.on('connection.update', update => client.updates.push(update))
	sock.ev.on('messages.upsert', ({ messages, type }) => {
		for (const message of messages) {
			client.upserts.push({ message, type })
		}
	})
	sock.ev.on('messaging-history.set', history => client.history.push(history))
	return client
}

const isOpen = (client: Client): true | undefined => (client.updates.some(update => update.connection === 'open') ? true : undefined)

/** QR pairing, the 515 restart, and a second socket that logs in: the app's side of linking. */
async function linkClient(fake: FakeWhatsApp, authDir: string): Promise<Client> {
	const first = await openClient(fake, authDir)
	const qr = await until(() => first.updates.find(update => update.qr)?.qr, 'a QR')
	await fake.phone.scanQr(qr)
	assert.is(await first.closed, DisconnectReason.restartRequired)
	const client = await openClient(fake, authDir)
	await until(() => isOpen(client), 'connection open')
	// a first login buffers events until history + app state sync are done; let it finish so a
	// restart does not find the client still waiting for history
	await fake.waitForInitialSync()
	await until(() => (client.sock.authState.creds.accountSyncCounter > 0 ? true : undefined), 'accountSyncCounter')
	return client
}

function upsertOf(client: Client, id: string, count = 1): Promise<Upsert[]> {
	return until(() => {
		const found = client.upserts.filter(upsert => upsert.message.key.id === id)
		return found.length >= count ? found : undefined
	}, `messages.upsert ${id}`)
}

function decryptVote(
	upsert: Upsert,
	poll: { id: string; secret: Uint8Array },
	creatorJid: string,
	voterJid: string
): string[] {
	const update = upsert.message.message?.pollUpdateMessage
	assert.ok(update?.vote, 'a pollUpdateMessage with a vote')
	const decrypted = decryptPollVote(update.vote, {
		pollCreatorJid: creatorJid,
		pollMsgId: poll.id,
		pollEncKey: poll.secret,
		voterJid
	})
	return decrypted.selectedOptions.map(hash => Buffer.from(hash).toString('hex'))
}

// ---

type Context = {
	fake: FakeWhatsApp
	alice: FakeContact
	bob: FakeContact
	carol: FakeContact
	authDir: string
	clients: Client[]
}

const FakeWa = suite<Context>('fake WhatsApp')
const authDirs: string[] = []
let restoreCertRoot: () => void = () => undefined

FakeWa.before(() => {
	restoreCertRoot = trustTestRoot()
})

FakeWa.after(() => {
	restoreCertRoot()
	for (const dir of authDirs) {
		rmSync(dir, { recursive: true, force: true })
	}
})

FakeWa.before.each(async context => {
	// skipPreKeyUpload: rc14 leaves a 30 s timer behind after each prekey upload (see the option)
	context.fake = await startFakeWhatsApp({ ownerPn: OWNER_PN, ownerLid: OWNER_LID, ownerName: 'Owner', skipPreKeyUpload: true })
	context.alice = context.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
	context.bob = context.fake.addContact({ pn: '15551110002', lid: '80000000002', name: 'Bob' })
	context.carol = context.fake.addContact({ pn: '15551110003', lid: '80000000003', name: 'Carol' })
	context.fake.addGroup({
		id: '120363000000000001@g.us',
		subject: 'Team',
		participants: [context.alice, context.bob, context.carol]
	})
	context.authDir = mkdtempSync(join(tmpdir(), 'fake-wa-auth-'))
	authDirs.push(context.authDir)
	context.clients = []
})

/** Ends a client once nothing is in flight (see FakeWhatsApp.waitForQuiet). */
async function endClient(fake: FakeWhatsApp, client: Client): Promise<void> {
	await fake.waitForQuiet()
	client.sock.end(undefined)
	await client.closed
}

FakeWa.after.each(async context => {
	await context.fake.waitForQuiet()
	for (const client of context.clients) {
		client.sock.end(undefined)
	}
	await context.fake.close()
})

async function linked(context: Context): Promise<Client> {
	const client = await linkClient(context.fake, context.authDir)
	context.clients.push(client)
	return client
}

async function sendPoll(
	client: Client,
	to: string,
	values = ['Pizza', 'Sushi', 'Tacos']
): Promise<{ id: string; secret: Buffer }> {
	const id = `POLL${randomBytes(6).toString('hex').toUpperCase()}`
	const secret = randomBytes(32)
	await client.sock.sendMessage(to, { poll: { name: 'Lunch?', values, selectableCount: 1, messageSecret: secret } }, { messageId: id })
	return { id, secret }
}

FakeWa('pairs by QR, restarts on 515 and logs in on a new socket', async context => {
	const client = await linked(context)
	assert.is(client.sock.user?.id, `${OWNER_PN}:1@s.whatsapp.net`)
	assert.is(client.sock.user?.lid, `${OWNER_LID}:1@lid`)
	assert.equal(context.fake.linkedDevices.map(device => device.id), [1])
	assert.is(context.fake.connectionCount, 2)
})

FakeWa('pairs by pairing code', async context => {
	const first = await openClient(context.fake, context.authDir)
	context.clients.push(first)
	await until(() => first.updates.find(update => update.qr)?.qr, 'the first QR (socket ready)')
	const code = await first.sock.requestPairingCode(OWNER_PN)
	const device = await context.fake.phone.enterPairingCode(code)
	assert.is(device.id, 1)
	assert.is(await first.closed, DisconnectReason.restartRequired)
	const client = await openClient(context.fake, context.authDir)
	context.clients.push(client)
	await until(() => isOpen(client), 'connection open')
	assert.is(client.sock.user?.id, `${OWNER_PN}:1@s.whatsapp.net`)
})

FakeWa('a client restarted with saved credentials logs in without a QR', async context => {
	const client = await linked(context)
	await endClient(context.fake, client)
	const again = await openClient(context.fake, context.authDir)
	context.clients.push(again)
	await until(() => isOpen(again), 'connection open')
	assert.not.ok(again.updates.some(update => update.qr), 'no QR on a saved login')
	assert.is(context.fake.connectionCount, 3)
	assert.is(context.fake.linkedDevices.length, 1)
})

FakeWa('the first login gets a history sync with contacts and groups', async context => {
	const client = await linked(context)
	const history = await until(() => client.history[0], 'messaging-history.set')
	const ids = history.chats.map(chat => chat.id).sort()
	assert.equal(ids, ['120363000000000001@g.us', '15551110001@s.whatsapp.net', '15551110002@s.whatsapp.net', '15551110003@s.whatsapp.net'])
	const alice = history.contacts.find(contact => contact.id === '15551110001@s.whatsapp.net')
	assert.is(alice?.name, 'Alice')
	assert.is(alice?.lid, '80000000001@lid')
})

FakeWa('a poll sent to a contact is decrypted by that voter', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	const record = await context.fake.waitForPoll(poll.id)
	assert.equal(record.errors, [])
	assert.is(record.voters.length, 1)
	const [copy] = record.voters
	assert.is(copy?.recipient, '15551110001')
	assert.is(copy?.question, 'Lunch?')
	assert.equal(copy?.options, ['Pizza', 'Sushi', 'Tacos'])
	assert.is(copy?.selectableCount, 1)
	assert.ok(copy?.messageSecret.equals(poll.secret), 'messageSecret survives the trip')
	assert.is(record.ownerCopy?.question, 'Lunch?', 'the device-sent copy reaches the phone too')
	assert.is(context.alice.polls.get(poll.id)?.question, 'Lunch?')
})

FakeWa('a LID-addressed vote arrives and decrypts to the chosen option hash', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	await context.fake.waitForPoll(poll.id)
	const voteId = await context.alice.vote({ pollId: poll.id, options: ['Sushi'], addressing: 'lid' })
	const [upsert] = await upsertOf(client, voteId)
	assert.is(upsert?.type, 'notify')
	assert.is(upsert?.message.key.remoteJid, context.alice.lidJid)
	assert.is(upsert?.message.key.remoteJidAlt, context.alice.pnJid)
	assert.is(upsert?.message.message?.pollUpdateMessage?.pollCreationMessageKey?.id, poll.id)
	assert.equal(decryptVote(upsert!, poll, OWNER_LID_JID, context.alice.lidJid), [sha256('Sushi')])
	await context.fake.waitForReceipt(voteId)
	assert.ok(context.fake.acknowledgedIds().has(voteId))
})

FakeWa('a PN-addressed vote carries PN jids and a LID alt', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	await context.fake.waitForPoll(poll.id)
	const voteId = await context.alice.vote({ pollId: poll.id, options: ['Tacos'], addressing: 'pn' })
	const [upsert] = await upsertOf(client, voteId)
	assert.is(upsert?.message.key.remoteJid, context.alice.pnJid)
	assert.is(upsert?.message.key.remoteJidAlt, context.alice.lidJid)
	assert.equal(decryptVote(upsert!, poll, OWNER_PN_JID, context.alice.pnJid), [sha256('Tacos')])
})

FakeWa('sign JIDs are chosen independently of the envelope; retraction and late votes', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	await context.fake.waitForPoll(poll.id)
	const mixed = await context.alice.vote({ pollId: poll.id, options: ['Pizza'], creatorJid: 'pn', voterJid: 'lid' })
	const [mixedUpsert] = await upsertOf(client, mixed)
	assert.equal(decryptVote(mixedUpsert!, poll, OWNER_PN_JID, context.alice.lidJid), [sha256('Pizza')])
	assert.throws(() => decryptVote(mixedUpsert!, poll, OWNER_LID_JID, context.alice.lidJid), 'only the right pair opens it')

	const late = await context.alice.vote({ pollId: poll.id, options: [], senderTimestampMs: 1_000, t: 1 })
	const [lateUpsert] = await upsertOf(client, late)
	assert.equal(decryptVote(lateUpsert!, poll, OWNER_LID_JID, context.alice.lidJid), [], 'an empty vote = retraction')
	assert.is(Number(lateUpsert?.message.message?.pollUpdateMessage?.senderTimestampMs), 1_000)
	assert.is(Number(lateUpsert?.message.messageTimestamp), 1)
})

FakeWa('an offline vote is held and arrives with type append on the next login', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	await context.fake.waitForPoll(poll.id)
	await endClient(context.fake, client)
	const voteId = await context.alice.vote({ pollId: poll.id, options: ['Pizza'] })
	assert.is(context.fake.pendingOffline, 1)
	const again = await openClient(context.fake, context.authDir)
	context.clients.push(again)
	const [upsert] = await upsertOf(again, voteId)
	assert.is(upsert?.type, 'append')
	assert.equal(decryptVote(upsert!, poll, OWNER_LID_JID, context.alice.lidJid), [sha256('Pizza')])
	assert.is(context.fake.recorder.delivered.find(record => record.id === voteId)?.offline, true)
	await context.fake.waitForReceipt(voteId)
})

FakeWa('a duplicate vote arrives twice; a byte-identical replay is nacked', async context => {
	const client = await linked(context)
	const poll = await sendPoll(client, context.alice.pnJid)
	await context.fake.waitForPoll(poll.id)
	const voteId = await context.alice.vote({ pollId: poll.id, options: ['Sushi'], times: 2 })
	const upserts = await upsertOf(client, voteId, 2)
	for (const upsert of upserts) {
		assert.equal(decryptVote(upsert, poll, OWNER_LID_JID, context.alice.lidJid), [sha256('Sushi')])
	}
	// the replayed copy reuses a spent Signal message key: the client asks for a retry and nacks
	const replayId = await context.alice.vote({ pollId: poll.id, options: ['Tacos'], times: 2, duplicateMode: 'replay' })
	const nack = await context.fake.waitForAck(replayId)
	assert.ok(nack.error, 'the replay is nacked')
	assert.ok(context.fake.receipts.some(receipt => receipt.id === replayId && receipt.type === 'retry'))
	const [first, stub] = await upsertOf(client, replayId, 2)
	assert.ok(first?.message.message?.pollUpdateMessage)
	assert.is(stub?.message.messageStubType, proto.WebMessageInfo.StubType.CIPHERTEXT, 'the replay surfaces as a stub')
})

FakeWa('a group poll is decrypted by every member and their votes come back', async context => {
	const client = await linked(context)
	const group = '120363000000000001@g.us'
	const poll = await sendPoll(client, group)
	const record = await context.fake.waitForPoll(poll.id)
	assert.equal(record.errors, [])
	assert.ok(record.isGroup)
	assert.equal(record.voters.map(voter => voter.recipient).sort(), ['15551110001', '15551110002', '15551110003'])
	for (const voter of record.voters) {
		assert.equal(voter.options, ['Pizza', 'Sushi', 'Tacos'])
		assert.ok(voter.messageSecret.equals(poll.secret))
	}
	const choices: [FakeContact, string][] = [
		[context.alice, 'Pizza'],
		[context.bob, 'Sushi'],
		[context.carol, 'Pizza']
	]
	for (const [voter, option] of choices) {
		const voteId = await voter.vote({ pollId: poll.id, options: [option] })
		const [upsert] = await upsertOf(client, voteId)
		assert.is(upsert?.message.key.remoteJid, group)
		assert.is(upsert?.message.key.participant, voter.lidJid)
		assert.is(upsert?.message.key.participantAlt, voter.pnJid)
		assert.equal(decryptVote(upsert!, poll, OWNER_LID_JID, voter.lidJid), [sha256(option)])
	}
	// a second group poll reuses the distributed sender key: skmsg only
	const second = await sendPoll(client, group, ['Yes', 'No'])
	const secondRecord = await context.fake.waitForPoll(second.id)
	assert.equal(secondRecord.errors, [])
	assert.is(secondRecord.voters.length, 3)
	const voteId = await context.bob.vote({ pollId: second.id, options: ['No'] })
	const [upsert] = await upsertOf(client, voteId)
	assert.equal(decryptVote(upsert!, second, OWNER_LID_JID, context.bob.lidJid), [sha256('No')])
})

FakeWa('a PN-addressed group works the same way', async context => {
	const group = context.fake.addGroup({
		id: '120363000000000003@g.us',
		subject: 'Old school',
		participants: [context.alice, context.bob],
		addressingMode: 'pn'
	})
	const client = await linked(context)
	const poll = await sendPoll(client, group.jid, ['Yes', 'No'])
	const record = await context.fake.waitForPoll(poll.id)
	assert.equal(record.errors, [])
	assert.equal(record.voters.map(voter => voter.recipientJid).sort(), [context.alice.pnJid, context.bob.pnJid])
	const voteId = await context.alice.vote({ pollId: poll.id, options: ['Yes'] })
	const [upsert] = await upsertOf(client, voteId)
	assert.is(upsert?.message.key.participant, context.alice.pnJid)
	assert.is(upsert?.message.key.participantAlt, context.alice.lidJid)
	assert.equal(decryptVote(upsert!, poll, OWNER_PN_JID, context.alice.pnJid), [sha256('Yes')])
})

FakeWa('a text from a new contact carries its push name', async context => {
	const client = await linked(context)
	const dave = context.fake.addContact({ pn: '15551110004', lid: '80000000004', name: 'Dave' })
	const id = await dave.sendText('hi there')
	const [upsert] = await upsertOf(client, id)
	assert.is(upsert?.type, 'notify')
	assert.is(upsert?.message.pushName, 'Dave')
	assert.is(upsert?.message.message?.conversation, 'hi there')
	assert.is(upsert?.message.key.remoteJidAlt, dave.pnJid)
})

FakeWa('groupFetchAllParticipating returns the fake groups', async context => {
	context.fake.addGroup({ id: '120363000000000002', subject: 'Legacy', participants: ['15551110001'], addressingMode: 'pn' })
	const client = await linked(context)
	const groups = await client.sock.groupFetchAllParticipating()
	assert.equal(Object.keys(groups).sort(), ['120363000000000001@g.us', '120363000000000002@g.us'])
	const team = groups['120363000000000001@g.us']
	assert.is(team?.subject, 'Team')
	assert.is(team?.addressingMode, 'lid')
	assert.equal(team?.participants.map(participant => participant.id).sort(), [
		'80000000001@lid',
		'80000000002@lid',
		'80000000003@lid',
		OWNER_LID_JID
	])
	assert.is(groups['120363000000000002@g.us']?.addressingMode, 'pn')
	const metadata = await client.sock.groupMetadata('120363000000000001@g.us')
	assert.is(metadata.participants.length, 4)
})

FakeWa('stream error 401 logs the device out for good', async context => {
	const client = await linked(context)
	context.fake.streamError(401)
	assert.is(await client.closed, DisconnectReason.loggedOut)
	assert.equal(context.fake.linkedDevices, [])
	const again = await openClient(context.fake, context.authDir)
	context.clients.push(again)
	assert.is(await again.closed, DisconnectReason.loggedOut, 'the unlinked device is refused')
})

FakeWa('stream error 440 closes with connectionReplaced', async context => {
	const client = await linked(context)
	context.fake.streamError(440)
	assert.is(await client.closed, DisconnectReason.connectionReplaced)
})

FakeWa('stream error 515 mid-session: the app reconnects and logs in', async context => {
	const client = await linked(context)
	context.fake.streamError(515)
	assert.is(await client.closed, DisconnectReason.restartRequired)
	const again = await openClient(context.fake, context.authDir)
	context.clients.push(again)
	await until(() => isOpen(again), 'connection open')
})

FakeWa('dropped and refused connections', async context => {
	const client = await linked(context)
	context.fake.dropConnections()
	assert.is(await client.closed, DisconnectReason.connectionClosed)
	context.fake.refuseConnections(60_000)
	const refused = await openClient(context.fake, context.authDir)
	context.clients.push(refused)
	assert.is(await refused.closed, DisconnectReason.connectionClosed, 'a refused socket closes the client')
	assert.is(context.fake.refusedCount, 1)
	context.fake.refuseConnections(0)
	const again = await openClient(context.fake, context.authDir)
	context.clients.push(again)
	await until(() => isOpen(again), 'connection open after refusal ends')
	assert.is(context.fake.connectionCount, 3, 'refused upgrades are not counted')
})

FakeWa('votes can be sealed, sent later, copied byte for byte, and wrapped', async context => {
	const client = await linked(context)
	const group = '120363000000000001@g.us'
	const poll = await sendPoll(client, group)
	await context.fake.waitForPoll(poll.id)
	// sealed by bob, sent first by alice (a copy), then by bob himself
	const sealed = context.bob.sealVote({ pollId: poll.id, options: ['Tacos'] })
	const copyId = await context.alice.vote({ pollId: poll.id, raw: sealed })
	const ownId = await context.bob.vote({ pollId: poll.id, raw: sealed })
	const [copy] = await upsertOf(client, copyId)
	const [own] = await upsertOf(client, ownId)
	assert.is(copy?.message.key.participant, context.alice.lidJid)
	assert.is(own?.message.key.participant, context.bob.lidJid)
	for (const upsert of [copy!, own!]) {
		const vote = upsert.message.message?.pollUpdateMessage?.vote
		assert.ok(Buffer.from(vote?.encPayload ?? []).equals(sealed.encPayload), 'the same payload bytes')
		assert.ok(Buffer.from(vote?.encIv ?? []).equals(sealed.encIv), 'the same IV bytes')
	}
	assert.equal(decryptVote(own!, poll, OWNER_LID_JID, context.bob.lidJid), [sha256('Tacos')], "the copy is bob's vote")
	assert.throws(() => decryptVote(copy!, poll, OWNER_LID_JID, context.alice.lidJid), "alice's copy does not open as hers")
	// every vote is recorded with its bytes
	const recorded = context.alice.votesSent.at(-1)
	assert.is(recorded?.id, copyId)
	assert.ok(recorded?.encPayload.equals(sealed.encPayload))
	const plain = await context.carol.vote({ pollId: poll.id, options: ['Pizza'] })
	assert.equal(context.carol.votesSent.at(-1)?.options, ['Pizza'])
	assert.is(context.carol.votesSent.at(-1)?.id, plain)
	// wrapped votes: the pollUpdateMessage inside ephemeral / view-once / edited wrappers
	const wrappers = { ephemeral: 'ephemeralMessage', viewOnce: 'viewOnceMessageV2', edited: 'editedMessage' } as const
	for (const [wrap, field] of Object.entries(wrappers) as [keyof typeof wrappers, (typeof wrappers)[keyof typeof wrappers]][]) {
		const id = await context.carol.vote({ pollId: poll.id, options: ['Sushi'], wrap })
		const [upsert] = await upsertOf(client, id)
		const inner = upsert?.message.message?.[field]?.message
		assert.ok(inner?.pollUpdateMessage, `${wrap}: ${field}.message.pollUpdateMessage`)
		const bare = { ...upsert!, message: { ...upsert!.message, message: inner } }
		assert.equal(decryptVote(bare, poll, OWNER_LID_JID, context.carol.lidJid), [sha256('Sushi')])
		await context.fake.waitForReceipt(id)
	}
	// junk: random bytes for a poll nobody created
	const junk = await context.alice.vote({ pollId: 'X'.repeat(300), raw: { encPayload: randomBytes(80), encIv: randomBytes(12) }, chatId: group })
	const [junkUpsert] = await upsertOf(client, junk)
	assert.is(junkUpsert?.message.message?.pollUpdateMessage?.pollCreationMessageKey?.id, 'X'.repeat(300))
})

FakeWa('the phone creates polls: a sender-key group message and a device-sent 1:1 message, both fromMe', async context => {
	const client = await linked(context)
	const group = '120363000000000001@g.us'
	const inGroup = await context.fake.phone.createPoll({ chatId: group, question: 'Dinner?', options: ['Pasta', 'Curry'] })
	const [groupUpsert] = await upsertOf(client, inGroup.id)
	assert.is(groupUpsert?.message.key.fromMe, true)
	assert.is(groupUpsert?.message.key.remoteJid, group)
	assert.is(groupUpsert?.message.key.participant, OWNER_LID_JID)
	const groupPoll = groupUpsert?.message.message?.pollCreationMessage
	assert.is(groupPoll?.name, 'Dinner?')
	assert.equal(groupPoll?.options?.map(option => option.optionName), ['Pasta', 'Curry'])
	assert.ok(Buffer.from(groupUpsert?.message.message?.messageContextInfo?.messageSecret ?? []).equals(inGroup.messageSecret))
	const receipt = await context.fake.waitForReceipt(inGroup.id)
	assert.is(receipt.type, 'sender')
	// every member can vote on it; the vote opens with the phone's secret
	assert.ok(context.bob.receivedPoll(inGroup.id))
	const voteId = await context.bob.vote({ pollId: inGroup.id, options: ['Curry'] })
	const [vote] = await upsertOf(client, voteId)
	assert.equal(decryptVote(vote!, { id: inGroup.id, secret: inGroup.messageSecret }, OWNER_LID_JID, context.bob.lidJid), [sha256('Curry')])
	// a second poll in the same group: skmsg only, the sender key is known
	const again = await context.fake.phone.createPoll({ chatId: group, question: 'Dessert?', options: ['Yes', 'No'], selectableCount: 1 })
	const [againUpsert] = await upsertOf(client, again.id)
	assert.is(againUpsert?.message.message?.pollCreationMessageV3?.name, 'Dessert?')

	for (const addressing of ['pn', 'lid'] as const) {
		const direct = await context.fake.phone.createPoll({ chatId: context.alice.pnJid, question: `1:1 ${addressing}?`, options: ['A', 'B'], selectableCount: 1, addressing })
		const [upsert] = await upsertOf(client, direct.id)
		assert.is(upsert?.message.key.fromMe, true, `${addressing}: fromMe`)
		assert.is(upsert?.message.key.remoteJid, addressing === 'pn' ? context.alice.pnJid : context.alice.lidJid, `${addressing}: the chat is the recipient`)
		assert.is(upsert?.message.message?.pollCreationMessageV3?.name, `1:1 ${addressing}?`, `${addressing}: the DeviceSentMessage is unwrapped`)
		assert.ok(Buffer.from(upsert?.message.message?.messageContextInfo?.messageSecret ?? []).equals(direct.messageSecret))
		assert.is((await context.fake.waitForReceipt(direct.id)).type, 'sender')
		const id = await context.alice.vote({ pollId: direct.id, options: ['B'] })
		const [directVote] = await upsertOf(client, id)
		assert.equal(decryptVote(directVote!, { id: direct.id, secret: direct.messageSecret }, OWNER_LID_JID, context.alice.lidJid), [sha256('B')])
	}
	assert.is(context.fake.phone.createdPolls.length, 4)
})

FakeWa('three contacts flooding 1:1 votes at once: every one decrypts, no retry receipt', async context => {
	const client = await linked(context)
	const senders = [context.alice, context.bob, context.carol]
	// each contact first hears from the client, so it answers on a session the client started
	for (const contact of senders) {
		await client.sock.sendMessage(contact.pnJid, { text: 'hi' })
	}
	await until(() => (senders.every(contact => contact.inbox.length > 0) ? true : undefined), 'the texts reach the contacts')
	const ids: string[][] = await Promise.all(
		senders.map(async contact => {
			const sent: string[] = []
			for (let i = 0; i < 40; i++) {
				sent.push(await contact.vote({ pollId: `JUNK${i}`, raw: { encPayload: randomBytes(50), encIv: randomBytes(12) } }))
			}
			return sent
		})
	)
	for (const id of ids.flat()) {
		await upsertOf(client, id)
	}
	// The client sends each receipt before its upsert, but the fake reads it a moment later.
	await until(() => (ids.flat().every(id => context.fake.receipts.some(receipt => receipt.id === id && receipt.type !== 'retry')) ? true : undefined), 'a receipt for every vote')
	const retries = context.fake.receipts.filter(receipt => receipt.type === 'retry').length
	assert.is(retries, 0, `${retries} retry receipts: the client could not decrypt some votes`)
})

FakeWa('a linked-profiles notification makes the client emit lid-mapping.update', async context => {
	const client = await linked(context)
	const mappings: BaileysEventMap['lid-mapping.update'][] = []
	client.sock.ev.on('lid-mapping.update', mapping => mappings.push(mapping))
	const dave = context.fake.addContact({ pn: '15551110004', lid: '80000000004', name: 'Dave' })
	await context.fake.notifyLidMapping(dave)
	const mapping = await until(() => mappings[0], 'lid-mapping.update')
	assert.equal(mapping, { lid: dave.lidJid, pn: dave.pnJid })
	assert.match(String(await client.sock.signalRepository.lidMapping.getPNForLID(dave.lidJid)), /^15551110004(:0)?@s\.whatsapp\.net$/, 'and stores it')
})

FakeWa('a second owner on the same port links its own client; each owner keeps its devices, contacts, polls and votes', async context => {
	const shop = context.fake.addOwner({ ownerPn: '15550000002', ownerLid: '900000000000002', ownerName: 'Shop', skipPreKeyUpload: true })
	assert.is(shop.url, context.fake.url, 'one port for both')
	assert.throws(() => context.fake.addOwner({ ownerPn: OWNER_PN, ownerLid: '900000000000009' }), /already exists/)
	const dave = shop.addContact({ pn: '15552220001', lid: '80000000101', name: 'Dave' })
	const shopDir = mkdtempSync(join(tmpdir(), 'fake-wa-auth-'))
	authDirs.push(shopDir)
	const mine = await linked(context)
	const theirs = await linkClient(shop, shopDir)
	context.clients.push(theirs)
	assert.is(theirs.sock.user?.id, '15550000002:1@s.whatsapp.net')
	assert.is(theirs.sock.user?.lid, '900000000000002:1@lid')
	assert.equal([shop.linkedDevices.length, context.fake.linkedDevices.length], [1, 1])
	const history = await until(() => theirs.history[0], 'the shop history sync')
	assert.equal(history.chats.map(chat => chat.id), [dave.pnJid], "only the shop's own contacts")

	const poll = await sendPoll(theirs, dave.pnJid)
	await shop.waitForPoll(poll.id)
	assert.is(context.fake.polls.find(record => record.id === poll.id), undefined, "not recorded by the first owner")
	const voteId = await dave.vote({ pollId: poll.id, options: ['Sushi'] })
	const [upsert] = await upsertOf(theirs, voteId)
	assert.equal(decryptVote(upsert!, poll, '900000000000002@lid', dave.lidJid), [sha256('Sushi')])
	const ours = await sendPoll(mine, context.alice.pnJid)
	await context.fake.waitForPoll(ours.id)
	const aliceVote = await context.alice.vote({ pollId: ours.id, options: ['Pizza'] })
	await upsertOf(mine, aliceVote)
	assert.not.ok(mine.upserts.some(u => u.message.key.id === voteId), "the shop's vote never reaches the first client")
	assert.not.ok(theirs.upserts.some(u => u.message.key.id === aliceVote))

	// fault injection is per owner; a saved login goes back to its owner without a QR
	let mineClosed = false
	void mine.closed.then(() => { mineClosed = true })
	await shop.waitForQuiet()
	shop.dropConnections()
	await theirs.closed
	const again = await openClient(shop, shopDir)
	context.clients.push(again)
	await until(() => isOpen(again), 'the shop client logged in again')
	assert.not.ok(again.updates.some(update => update.qr), 'no QR on a saved login')
	assert.is(again.sock.user?.id, '15550000002:1@s.whatsapp.net')
	assert.not.ok(mineClosed, 'the first owner\'s client stayed connected')
	assert.equal([shop.linkedDevices.length, context.fake.linkedDevices.length], [1, 1])
	await shop.waitForQuiet()
})

FakeWa.run()
