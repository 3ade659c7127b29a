/**
 * FakeWhatsApp: a WebSocket server on 127.0.0.1 that speaks enough of WhatsApp Web for the
 * real Baileys client: Noise handshake, pairing, login, the IQs Baileys awaits, Signal-
 * encrypted 1:1 and group messages both ways, offline delivery and fault injection.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { BinaryNode } from '@whiskeysockets/baileys'
import { WebSocketServer } from 'ws'
import { node, unixSeconds } from './binary-io.ts'
import { makeServerIdentity } from './certs.ts'
import type { ServerIdentity } from './certs.ts'
import { ClientConnection } from './connection.ts'
import type { ConnectionHost } from './connection.ts'
import { FakeContact } from './contact.ts'
import type { ContactSpec } from './contact.ts'
import { DeviceRegistry } from './devices.ts'
import type { CompanionDevice } from './devices.ts'
import { FakeGroup } from './group.ts'
import type { GroupSpec } from './group.ts'
import { historySyncMessage } from './history.ts'
import { InboundRouter } from './inbound.ts'
import { answerIq, isPassiveActive } from './iq-handlers.ts'
import type { IqHost } from './iq-handlers.ts'
import { decodeJid, groupJid, lidJid, pnJid, SERVER_JID, userPart } from './jids.ts'
import type { DeliverOptions, Network } from './network.ts'
import type { FinishedHandshake } from './noise.ts'
import { PairingFlows } from './pair-flow.ts'
import { platformFromPayload, registrationFromPayload } from './pairing.ts'
import { FakePhone } from './phone.ts'
import type { LinkedDevice } from './phone.ts'
import { silenceLibsignalLogs } from './quiet-libsignal.ts'
import { Recorder } from './records.ts'
import type { AckRecord, PollRecord, ReceiptRecord } from './records.ts'
import { Scheduler } from './scheduler.ts'
import type { PreKeyBundle } from './signal-peer.ts'
import type { KnownUser } from './usync.ts'

export type FakeWhatsAppOptions = {
	/** the account owner's phone number; default 15550000001 */
	ownerPn?: string
	/** the owner's LID user; default 900000000000001 */
	ownerLid?: string
	/** the owner's push name; default 'Owner' */
	ownerName?: string
	/**
	 * After a device's first login the phone sends an inline INITIAL_BOOTSTRAP history sync
	 * (contacts, groups, PN↔LID mappings → `messaging-history.set`). It also ends Baileys'
	 * 20 s wait for history on a first connection. Default true.
	 */
	historySync?: boolean
	/** how long waitFor* helpers wait by default; default 5000 ms */
	defaultTimeoutMs?: number
	/**
	 * Answer `encrypt get <count/>` with 812 (a full server) so Baileys skips its prekey upload;
	 * peers then start sessions from the signed prekey alone (no one-time prekey), which Signal
	 * allows. Why: rc14 races every upload against a 30 s setTimeout it never clears, which
	 * keeps an in-process test alive for 30 s after its last login. Default false (real upload).
	 */
	skipPreKeyUpload?: boolean
	/** drop libsignal's session bookkeeping lines from the console while running; default true */
	quietLibsignal?: boolean
	/**
	 * A contact answers the client's retry receipt by sending the message again, freshly
	 * encrypted (with its sender key, in groups), up to 5 times per message, as a phone does
	 * for WhatsApp. Default true; false leaves retry receipts unanswered.
	 */
	answerRetries?: boolean
}

export type WaitOptions = { timeoutMs?: number }

type QueuedStanza = { stanza: BinaryNode; deviceId: number }

const STREAM_PATH = '/ws/chat'
/** WhatsApp clients give up on a message after five retry receipts */
const MAX_RETRY_ANSWERS = 5

export class FakeWhatsApp implements ConnectionHost, IqHost, Network {
	readonly url: string
	readonly events = new EventEmitter()
	readonly scheduler = new Scheduler()
	readonly recorder: Recorder
	readonly identity: ServerIdentity = makeServerIdentity()
	readonly devices = new DeviceRegistry()
	readonly pairing: PairingFlows
	readonly phone: FakePhone
	readonly ownerPn: string
	readonly ownerLid: string
	readonly skipPreKeyUpload: boolean

	private readonly contacts: FakeContact[] = []
	private readonly groupsById = new Map<string, FakeGroup>()
	private readonly live = new Set<ClientConnection>()
	private readonly inbound: InboundRouter
	private readonly offlineQueue: QueuedStanza[] = []
	/**
	 * Messages each connection was sent and has not yet settled with a receipt or an ack.
	 * WhatsApp keeps a message until the device acknowledges it and redelivers it on the
	 * next login otherwise; so does this fake (see requeueUnacknowledged).
	 */
	private readonly unacknowledged = new Map<ClientConnection, QueuedStanza[]>()
	private redelivered = 0
	/** contact messages by id, to send again on a retry receipt */
	private readonly resendable = new Map<string, { device: CompanionDevice; resend: () => Promise<BinaryNode>; answered: number }>()
	private retriesAnswered = 0
	private readonly answerRetries: boolean
	private readonly historySync: boolean
	private readonly defaultTimeoutMs: number
	private acceptedConnections = 0
	private refusedConnections = 0
	private refuseUntil = 0
	private iqCounter = 0
	private closing: Promise<void> | undefined
	private readonly restoreConsole: () => void
	/** further owners served on this server's port (addOwner), and which of their connections went to whom */
	private readonly owners: FakeWhatsApp[] = []
	private readonly handedOver = new Map<ClientConnection, FakeWhatsApp>()

	private constructor(
		private readonly wss: WebSocketServer,
		options: FakeWhatsAppOptions,
		/** set for an owner added with addOwner: the server that owns the port and every socket */
		private readonly primary?: FakeWhatsApp
	) {
		const address = wss.address() as AddressInfo
		this.url = `ws://127.0.0.1:${address.port}${STREAM_PATH}`
		this.ownerPn = userPart(options.ownerPn ?? '15550000001')
		this.ownerLid = userPart(options.ownerLid ?? '900000000000001')
		this.historySync = options.historySync ?? true
		this.skipPreKeyUpload = options.skipPreKeyUpload ?? false
		this.answerRetries = options.answerRetries ?? true
		this.restoreConsole = options.quietLibsignal === false ? () => undefined : silenceLibsignalLogs()
		this.defaultTimeoutMs = options.defaultTimeoutMs ?? 5000
		this.recorder = new Recorder(this.scheduler, this.events)
		this.pairing = new PairingFlows({
			ownerPn: this.ownerPn,
			ownerLid: this.ownerLid,
			ownerIdentity: () => this.phone.signal.identityKeyPair,
			devices: this.devices,
			scheduler: this.scheduler,
			// a client showing a QR is the primary's until a phone scans it: any owner's phone may
			connections: () => (this.primary ? [...this.primary.live, ...this.live] : [...this.live]),
			newIqId: () => this.newIqId(),
			onPaired: device => this.events.emit('paired', device)
		})
		this.phone = new FakePhone(this.ownerPn, this.ownerLid, options.ownerName ?? 'Owner', this, this.pairing)
		this.inbound = new InboundRouter(this)
		if (!primary) wss.on('connection', socket => {
			// refused at once after the upgrade: an HTTP error status would leave Baileys (which
			// listens for 'unexpected-response') waiting for its 20 s connect timeout instead
			if (Date.now() < this.refuseUntil) {
				this.refusedConnections++
				socket.terminate()
				return
			}
			const connection = new ClientConnection(++this.acceptedConnections, socket, this)
			this.live.add(connection)
			this.events.emit('connection', connection.id)
		})
	}

	/**
	 * Another WhatsApp account (owner) served on the same port, as the real WhatsApp serves
	 * every phone: its own phone, contacts, groups, linked devices, offline queue and recorder.
	 * A client showing a QR belongs to the owner whose phone scans it (`owner.phone.scanQr`);
	 * a client logging in goes to the owner that linked it. Fault injection (streamError,
	 * dropConnections) touches only that owner's connections; refuseConnections, the whole
	 * port. Pairing by code and messages between owners are not simulated. Closed with this server.
	 */
	addOwner(options: Omit<FakeWhatsAppOptions, 'quietLibsignal'> & { ownerPn: string; ownerLid: string }): FakeWhatsApp {
		if (this.primary) {
			return this.primary.addOwner(options)
		}
		for (const fake of [this, ...this.owners]) {
			if (fake.ownerPn === userPart(options.ownerPn) || fake.ownerLid === userPart(options.ownerLid)) {
				throw new Error(`owner ${options.ownerPn} / ${options.ownerLid} already exists`)
			}
		}
		const owner = new FakeWhatsApp(this.wss, { ...options, quietLibsignal: false }, this)
		this.owners.push(owner)
		return owner
	}

	static async start(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
		const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: STREAM_PATH })
		await new Promise<void>((resolve, reject) => {
			wss.once('listening', resolve)
			wss.once('error', reject)
		})
		return new FakeWhatsApp(wss, options)
	}

	// ---- scenario API -------------------------------------------------------------------

	/** A contact with a real Signal identity; their prekey bundles are served on request. */
	addContact(spec: ContactSpec): FakeContact {
		const pn = userPart(spec.pn)
		const lid = userPart(spec.lid)
		if (this.lookupUser(pn, SERVER_JID) || this.lookupUser(lid, 'lid')) {
			throw new Error(`contact ${pn} / ${lid} already exists`)
		}
		const contact = new FakeContact({ pn, lid, name: spec.name ?? pn }, this)
		this.contacts.push(contact)
		return contact
	}

	/** Looks a contact up by phone number, LID or either JID. */
	contact(id: string): FakeContact | undefined {
		const user = userPart(id)
		return this.contacts.find(contact => contact.pn === user || contact.lid === user)
	}

	addGroup(spec: GroupSpec): FakeGroup {
		const members = spec.participants.map(member => {
			const contact = typeof member === 'string' ? this.contact(member) : member
			if (!contact || !this.contacts.includes(contact)) {
				throw new Error(`group member ${String(typeof member === 'string' ? member : member.pn)} is not a contact`)
			}
			return contact
		})
		const group = new FakeGroup(groupJid(spec.id), spec.subject, members, spec.addressingMode ?? 'lid', spec.description, spec.creation)
		if (this.groupsById.has(group.jid)) {
			throw new Error(`group ${group.jid} already exists`)
		}
		this.groupsById.set(group.jid, group)
		return group
	}

	group(jid: string): FakeGroup | undefined {
		return this.groupsById.get(groupJid(jid))
	}

	groups(): FakeGroup[] {
		return [...this.groupsById.values()]
	}

	/** WebSocket connections accepted so far (refused ones not counted). */
	get connectionCount(): number {
		return this.acceptedConnections
	}

	/** WebSocket connections dropped by refuseConnections(). */
	get refusedCount(): number {
		return this.refusedConnections
	}

	get openConnections(): number {
		return [...this.live].filter(connection => connection.isOpen).length
	}

	/** companions currently linked (unlinked ones, e.g. after streamError(401), are left out) */
	get linkedDevices(): LinkedDevice[] {
		return this.devices
			.list()
			.filter(device => !device.removed)
			.map(device => ({
				id: device.id,
				jid: `${this.ownerPn}:${device.id}@${SERVER_JID}`,
				lid: lidJid(this.ownerLid, device.id),
				platform: device.platform
			}))
	}

	/** stanzas held for the next login */
	get pendingOffline(): number {
		return this.offlineQueue.length
	}

	/** messages delivered to a connection that closed before acknowledging them, queued again */
	get redeliveredCount(): number {
		return this.redelivered
	}

	/** retry receipts a contact answered by sending the message again */
	get retriesAnsweredCount(): number {
		return this.retriesAnswered
	}

	get polls(): PollRecord[] {
		return this.recorder.polls
	}

	get receipts(): ReceiptRecord[] {
		return this.recorder.receipts
	}

	/** Message ids the client sent a receipt or an ack (including a nack) for. */
	acknowledgedIds(): Set<string> {
		return new Set([...this.recorder.receipts.map(receipt => receipt.id), ...this.recorder.acks.map(ack => ack.id)])
	}

	waitFor<T>(check: () => T | undefined, label: string, { timeoutMs }: WaitOptions = {}): Promise<T> {
		return this.scheduler.waitFor(check, timeoutMs ?? this.defaultTimeoutMs, label)
	}

	/** Resolves once poll `id` reached the server and every addressed recipient tried to open it. */
	waitForPoll(id: string, options: WaitOptions = {}): Promise<PollRecord> {
		return this.waitFor(() => this.recorder.polls.find(poll => poll.id === id), `poll ${id}`, options)
	}

	/** The client's receipt for a message the fake delivered. */
	waitForReceipt(messageId: string, options: WaitOptions = {}): Promise<ReceiptRecord> {
		return this.waitFor(
			() => this.recorder.receipts.find(receipt => receipt.id === messageId),
			`a receipt for ${messageId}`,
			options
		)
	}

	/** The client's ack (usually a nack with an error code) for a message the fake delivered. */
	waitForAck(messageId: string, options: WaitOptions = {}): Promise<AckRecord> {
		return this.waitFor(() => this.recorder.acks.find(ack => ack.id === messageId), `an ack for ${messageId}`, options)
	}

	/** Resolves when a logged-in client got its offline stanzas and may receive live ones. */
	waitForReady(options: WaitOptions = {}): Promise<number> {
		return this.waitFor(() => this.readyConnection()?.id, 'a ready client connection', options)
	}

	/**
	 * Resolves when the connected device finished its initial sync (history processed, app
	 * state fetched): from then on Baileys no longer buffers events waiting for history.
	 */
	waitForInitialSync(options: WaitOptions = {}): Promise<number> {
		return this.waitFor(
			() => {
				const device = this.loggedInConnection()?.device
				return device?.historySynced ? device.id : undefined
			},
			'the initial history / app state sync',
			options
		)
	}

	/**
	 * Resolves once no stanza went either way for `quietMs`. Call it before `sock.end()`:
	 * rc14's end() drops the 'close' listeners of in-flight queries, so a query still on the
	 * wire at that moment keeps a 60 s timer alive in the test process.
	 */
	async waitForQuiet({ quietMs = 50, timeoutMs }: WaitOptions & { quietMs?: number } = {}): Promise<void> {
		const deadline = Date.now() + (timeoutMs ?? this.defaultTimeoutMs)
		for (;;) {
			const last = this.recorder.stanzas.at(-1)?.at ?? 0
			const idle = Date.now() - last
			if (idle >= quietMs) {
				return
			}
			if (Date.now() + quietMs - idle > deadline) {
				throw new Error('timed out waiting for the client to go quiet')
			}
			await this.scheduler.delay(quietMs - idle)
		}
	}

	/** Resolves when every message the client sent so far has been opened by the recipients. */
	settled(): Promise<void> {
		return this.inbound.settled()
	}

	/**
	 * WhatsApp's `NotificationLinkedProfilesUpdates` (a `<notification type=mex>`): rc14 stores
	 * the LID↔PN pair and emits `lid-mapping.update`, the only way a server-side notice makes it
	 * do so (a LID-addressed message with `sender_pn` stores a mapping without the event).
	 * Sent to the ready connection at once; resolves with the notification id once the client
	 * acknowledged it.
	 */
	async notifyLidMapping(user: { lid: string; pn: string }, options: WaitOptions = {}): Promise<string> {
		const connection = this.readyConnection()
		if (!connection) {
			throw new Error('no ready client connection to notify')
		}
		const id = this.newMessageId()
		const payload = { data: { xwa2_notify_linked_profiles: { jid: lidJid(userPart(user.lid)), added_profiles: [pnJid(userPart(user.pn))] } } }
		connection.send(
			node('notification', { from: SERVER_JID, type: 'mex', id, t: unixSeconds() }, [
				node('update', { op_name: 'NotificationLinkedProfilesUpdates' }, Buffer.from(JSON.stringify(payload)))
			])
		)
		await this.waitFor(() => (this.recorder.acks.some(ack => ack.id === id) ? true : undefined), `an ack for notification ${id}`, options)
		return id
	}

	// ---- fault injection ------------------------------------------------------------------

	/** Closes every client socket abruptly (no close frame), like a network failure. */
	dropConnections(): void {
		for (const connection of [...this.live]) {
			connection.terminate()
		}
	}

	/**
	 * Ends every logged-in stream the way WhatsApp does:
	 * 515 → `<stream:error code=515/>` (restartRequired);
	 * 401 → `<stream:error code=401><conflict type=device_removed/>` (loggedOut), and the device
	 *       is unlinked so its next login gets `<failure reason=401/>`;
	 * 440 → `<stream:error><conflict type=replaced/>` (connectionReplaced);
	 * anything else → `<stream:error code=N/>`.
	 */
	streamError(code: number, { unlink = code === 401 }: { unlink?: boolean } = {}): void {
		for (const connection of [...this.live]) {
			if (!connection.isOpen || connection.state !== 'logged-in') {
				continue
			}
			if (code === 401) {
				if (unlink && connection.device) {
					connection.device.removed = true
				}
				connection.endStream(node('stream:error', { code: 401 }, [node('conflict', { type: 'device_removed' })]))
			} else if (code === 440) {
				connection.endStream(node('stream:error', {}, [node('conflict', { type: 'replaced' })]))
			} else {
				connection.endStream(node('stream:error', { code }))
			}
		}
	}

	/** For `ms` milliseconds, drops every new WebSocket right after its upgrade. */
	refuseConnections(ms: number): void {
		if (this.primary) {
			this.primary.refuseConnections(ms)
			return
		}
		this.refuseUntil = Date.now() + ms
	}

	async close(): Promise<void> {
		this.closing ??= (async () => {
			for (const owner of this.owners) {
				await owner.close()
			}
			this.scheduler.close()
			for (const connection of [...this.live]) {
				connection.terminate()
			}
			if (!this.primary) {
				await new Promise<void>(resolve => this.wss.close(() => resolve()))
			}
			this.events.removeAllListeners()
			this.restoreConsole()
		})()
		return this.closing
	}

	// ---- Network (used by the phone and contacts) --------------------------------------------

	targetDevice(): CompanionDevice {
		const device = this.loggedInConnection()?.device ?? this.devices.lastActive
		if (!device) {
			throw new Error('no companion device is linked yet')
		}
		return device
	}

	companionJid(device: CompanionDevice): string {
		return lidJid(this.ownerLid, device.id)
	}

	deliver(stanza: BinaryNode, device: CompanionDevice, { offline = false }: DeliverOptions = {}): void {
		const connection = this.readyConnection()
		if (!offline && connection?.device === device) {
			this.sendToClient(connection, stanza, false)
		} else {
			this.offlineQueue.push({ stanza, deviceId: device.id })
		}
	}

	newMessageId(): string {
		return randomBytes(10).toString('hex').toUpperCase()
	}

	rememberForRetry(id: string, device: CompanionDevice, resend: () => Promise<BinaryNode>): void {
		this.resendable.set(id, { device, resend, answered: 0 })
	}

	// ---- ConnectionHost -----------------------------------------------------------------------

	record(connection: ClientConnection, direction: 'from-client' | 'to-client', stanza: BinaryNode): void {
		const owner = this.handedOver.get(connection)
		if (owner) {
			owner.record(connection, direction, stanza)
			return
		}
		if (direction === 'from-client') {
			this.settleAcknowledged(connection, stanza)
		}
		this.recorder.stanza({ direction, connectionId: connection.id, node: stanza, at: Date.now() })
	}

	onAuthenticated(connection: ClientConnection, { payload, clientStaticKey }: FinishedHandshake): void {
		if (payload.devicePairingData) {
			connection.state = 'pairing'
			connection.registration = registrationFromPayload(payload)
			connection.platform = platformFromPayload(payload)
			this.pairing.offerQr(connection)
			return
		}
		const device = this.devices.byNoiseKey(clientStaticKey)
		const owner = device ? undefined : this.owners.find(other => other.devices.byNoiseKey(clientStaticKey))
		if (owner) {
			this.live.delete(connection)
			owner.live.add(connection)
			this.handedOver.set(connection, owner)
			owner.onAuthenticated(connection, { payload, clientStaticKey } as FinishedHandshake)
			return
		}
		const username = payload.username === null || payload.username === undefined ? '' : String(payload.username)
		if (!device || username !== this.ownerPn || device.id !== (payload.device ?? 0)) {
			connection.endStream(node('failure', { reason: 401, location: 'fake' }))
			return
		}
		// a device has one stream: the newest connection wins, as with WhatsApp
		for (const other of this.live) {
			if (other !== connection && other.device === device && other.isOpen) {
				other.endStream(node('stream:error', {}, [node('conflict', { type: 'replaced' })]))
			}
		}
		connection.device = device
		connection.state = 'logged-in'
		device.logins++
		this.devices.lastActive = device
		connection.send(node('success', { t: unixSeconds(), lid: lidJid(this.ownerLid, device.id), location: 'fake' }))
		this.events.emit('login', { connectionId: connection.id, deviceId: device.id })
	}

	async onNode(connection: ClientConnection, stanza: BinaryNode): Promise<void> {
		const owner = this.handedOver.get(connection)
		if (owner) {
			return owner.onNode(connection, stanza)
		}
		if (stanza.tag === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')) {
			connection.send(await answerIq(this, connection, stanza))
			if (isPassiveActive(stanza)) {
				await this.activate(connection)
			}
		} else if (stanza.tag === 'message') {
			this.inbound.handle(connection, stanza)
		}
	}

	onClosed(connection: ClientConnection): void {
		const owner = this.handedOver.get(connection)
		if (owner) {
			this.handedOver.delete(connection)
			owner.onClosed(connection)
			return
		}
		this.live.delete(connection)
		this.requeueUnacknowledged(connection)
		this.events.emit('close', connection.id)
		this.scheduler.poke()
	}

	// ---- IqHost ---------------------------------------------------------------------------------

	lookupUser(user: string, server: string): KnownUser | undefined {
		const isLid = server === 'lid'
		if (user === (isLid ? this.ownerLid : this.ownerPn)) {
			return { pn: this.ownerPn, lid: this.ownerLid }
		}
		const contact = this.contacts.find(candidate => (isLid ? candidate.lid : candidate.pn) === user)
		return contact ? { pn: contact.pn, lid: contact.lid } : undefined
	}

	async issueBundle(user: string, server: string, device: number): Promise<PreKeyBundle | undefined> {
		const known = this.lookupUser(user, server)
		if (!known) {
			return undefined
		}
		if (known.pn === this.ownerPn) {
			return device === 0 ? this.phone.signal.issueBundle() : this.devices.get(device)?.takeBundle()
		}
		return device === 0 ? this.contact(known.pn)?.signal.issueBundle() : undefined
	}

	onLogout(connection: ClientConnection): void {
		if (connection.device) {
			connection.device.removed = true
		}
	}

	// ---- InboundHost ---------------------------------------------------------------------------

	participantForJid(jid: string): FakeContact | FakePhone | undefined {
		const decoded = decodeJid(jid)
		if (!decoded || decoded.device !== 0) {
			return undefined
		}
		const known = this.lookupUser(decoded.user, decoded.server)
		if (!known) {
			return undefined
		}
		return known.pn === this.ownerPn ? this.phone : this.contact(known.pn)
	}

	// ---- internals -------------------------------------------------------------------------------

	private newIqId(): string {
		return `fake-${++this.iqCounter}`
	}

	private loggedInConnection(): ClientConnection | undefined {
		return [...this.live].find(connection => connection.isOpen && connection.state === 'logged-in')
	}

	private readyConnection(): ClientConnection | undefined {
		const connection = this.loggedInConnection()
		return connection?.ready ? connection : undefined
	}

	private sendToClient(connection: ClientConnection, stanza: BinaryNode, offline: boolean): void {
		const sent = offline ? { ...stanza, attrs: { ...stanza.attrs, offline: '1' } } : stanza
		connection.send(sent)
		if (stanza.tag === 'message' && connection.device && connection.isOpen) {
			const list = this.unacknowledged.get(connection) ?? []
			list.push({ stanza, deviceId: connection.device.id })
			this.unacknowledged.set(connection, list)
		}
		this.recorder.deliveredToClient({
			id: stanza.attrs.id ?? '',
			offline,
			connectionId: connection.id,
			node: sent,
			at: Date.now()
		})
	}

	/**
	 * A delivery (or read, sender, ...) receipt or an ack, nacks included, settles a message:
	 * WhatsApp stops redelivering it. A retry receipt does not (the client could not decrypt).
	 */
	private settleAcknowledged(connection: ClientConnection, stanza: BinaryNode): void {
		let ids: string[]
		if (stanza.tag === 'receipt' && stanza.attrs.type === 'retry') {
			this.answerRetry(stanza.attrs.id)
			return
		}
		if (stanza.tag === 'receipt') {
			const list = Array.isArray(stanza.content) ? stanza.content.find(item => item.tag === 'list') : undefined
			const items = list && Array.isArray(list.content) ? list.content.filter(item => item.tag === 'item') : []
			ids = [stanza.attrs.id, ...items.map(item => item.attrs.id)].filter((id): id is string => !!id)
		} else if (stanza.tag === 'ack' && stanza.attrs.class === 'message' && stanza.attrs.id) {
			ids = [stanza.attrs.id]
		} else {
			return
		}
		const pending = this.unacknowledged.get(connection)
		for (const id of ids) {
			const at = pending?.findIndex(queued => queued.stanza.attrs.id === id) ?? -1
			if (at >= 0) {
				pending!.splice(at, 1)
			}
		}
	}

	/** The sender encrypts the message again (the client's copy could not be decrypted) and sends it. */
	private answerRetry(id: string | undefined): void {
		const entry = id ? this.resendable.get(id) : undefined
		if (!this.answerRetries || !entry || entry.answered >= MAX_RETRY_ANSWERS) {
			return
		}
		entry.answered++
		this.retriesAnswered++
		entry
			.resend()
			.then(stanza => {
				if (!this.scheduler.isClosed) {
					this.deliver(stanza, entry.device)
				}
			})
			.catch(() => undefined)
	}

	/**
	 * A connection closed (crash, kill -9, network drop) with messages it never acknowledged:
	 * they go back to the front of the offline queue and reach the device on its next login
	 * with `offline`, as WhatsApp's own redelivery does; to a device still connected on
	 * another stream, at once.
	 */
	private requeueUnacknowledged(connection: ClientConnection): void {
		const left = this.unacknowledged.get(connection) ?? []
		this.unacknowledged.delete(connection)
		if (!left.length || this.scheduler.isClosed) {
			return
		}
		this.redelivered += left.length
		const live = this.readyConnection()
		const now = left.filter(queued => live?.device?.id === queued.deviceId)
		this.offlineQueue.unshift(...left.filter(queued => !now.includes(queued)))
		for (const { stanza } of now) {
			this.sendToClient(live!, stanza, false)
		}
	}

	/**
	 * After `passive set <active/>`: queued stanzas with the `offline` attribute, then
	 * `<ib><offline count/>` (Baileys flushes its event buffer on it), then live delivery, and
	 * on a device's first login the phone's history sync.
	 */
	private async activate(connection: ClientConnection): Promise<void> {
		const device = connection.device
		if (connection.ready || !device) {
			return
		}
		const mine = this.offlineQueue.filter(queued => queued.deviceId === device.id)
		const others = this.offlineQueue.filter(queued => queued.deviceId !== device.id)
		this.offlineQueue.splice(0, this.offlineQueue.length, ...others)
		for (const { stanza } of mine) {
			this.sendToClient(connection, stanza, true)
		}
		connection.send(node('ib', { from: SERVER_JID }, [node('offline', { count: mine.length })]))
		connection.ready = true
		this.events.emit('ready', connection.id)
		this.scheduler.poke()
		// until the client finished its initial sync it waits 20 s for history on every login
		if (this.historySync && !device.historySynced) {
			const message = historySyncMessage(this.contacts, this.groups())
			const stanza = await this.phone.messageFor(device, message)
			this.deliver(stanza, device)
		}
	}
}

export function startFakeWhatsApp(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
	return FakeWhatsApp.start(options)
}
