/**
 * The account owner's phone: links companions (QR or pairing code), is a Signal peer in its
 * own right (it receives the client's device-sent copies and sends the history sync).
 */
import { randomBytes } from 'node:crypto'
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { node, unixSeconds } from './binary-io.ts'
import type { CompanionDevice } from './devices.ts'
import type { AddressingMode } from './group.ts'
import { isGroupJid, lidJid, pnJid } from './jids.ts'
import type { Network } from './network.ts'
import { Participant } from './participant.ts'

/** A poll the owner creates on the phone (the primary device), as `phone.createPoll` takes it. */
export type PhonePollSpec = {
	/** a group JID, or a contact (PN or LID JID, or phone number) for a 1:1 chat */
	chatId: string
	question: string
	options: string[]
	/** 0 = any number of options (default), 1 = single choice */
	selectableCount?: number
	/** default: a fresh random id */
	messageId?: string
	/** 32 bytes; default: random */
	messageSecret?: Uint8Array
	/** default: the group's mode; 'pn' for 1:1 chats (`from=OWNER_PN recipient=CONTACT_PN`) */
	addressing?: AddressingMode
	/** hold until the client's next login and deliver with the `offline` attribute */
	offline?: boolean
	/** stanza `t`, unix seconds; default: now */
	t?: number
}

/** A poll created on the phone: what its recipients (and the linked companion) learn. */
export type PhonePoll = {
	id: string
	/** the group JID, or the contact's JID (in the addressing used) for a 1:1 chat */
	chatId: string
	isGroup: boolean
	question: string
	options: string[]
	selectableCount: number
	messageSecret: Buffer
}

export type LinkedDevice = {
	/** device number, 1 for the first companion */
	id: number
	/** e.g. 15550000001:1@s.whatsapp.net */
	jid: string
	/** e.g. 900000000000001:1@lid */
	lid: string
	platform: string
}

export interface PairingApi {
	scanQr(qr: string): Promise<LinkedDevice>
	enterPairingCode(code: string, timeoutMs: number): Promise<LinkedDevice>
}

export class FakePhone extends Participant {
	readonly pnJid: string
	readonly lidJid: string
	/** every message the phone decrypted from a companion (device-sent copies), in order */
	readonly inbox: proto.Message[] = []
	/** polls created with createPoll, in order */
	readonly createdPolls: PhonePoll[] = []

	constructor(
		readonly pn: string,
		readonly lid: string,
		readonly name: string,
		private readonly network: Network,
		private readonly pairing: PairingApi
	) {
		super()
		this.pnJid = pnJid(pn)
		this.lidJid = lidJid(lid)
	}

	/**
	 * Scans the client's QR (`connection.update.qr`): sends pair-success, then the 515 stream
	 * restart. The app must open a new socket afterwards, as with real WhatsApp.
	 */
	scanQr(qr: string): Promise<LinkedDevice> {
		return this.pairing.scanQr(qr)
	}

	/**
	 * Types the code `sock.requestPairingCode(pn)` returned. Waits up to `timeoutMs` for the
	 * client's request to reach the server, runs the link-code exchange, then pairs as scanQr does.
	 */
	enterPairingCode(code: string, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<LinkedDevice> {
		return this.pairing.enterPairingCode(code.replace(/[^0-9A-Za-z]/g, '').toUpperCase(), timeoutMs)
	}

	/** A message from the phone to one companion device, encrypted and ready to deliver. */
	async messageFor(device: CompanionDevice, message: proto.IMessage, type = 'text'): Promise<BinaryNode> {
		const { type: encType, ciphertext } = await this.encryptFor(device, message)
		return node(
			'message',
			{ from: this.pnJid, id: this.network.newMessageId(), t: unixSeconds(), type, notify: this.name },
			[node('enc', { v: 2, type: encType }, ciphertext)]
		)
	}

	/**
	 * The owner creates a poll on the phone. The linked companion gets it as WhatsApp delivers
	 * another device's message: in a group, a sender-key message from the owner's own device
	 * (`participant` = the owner's LID or PN, so Baileys sees it fromMe); in a 1:1 chat, a
	 * `<message from=OWNER recipient=CONTACT>` whose plaintext is a DeviceSentMessage with the
	 * destinationJid. The poll carries `messageContextInfo.messageSecret`. The chat's other
	 * members (group members, or the 1:1 contact) receive it too, so they can vote on it
	 * with `contact.vote({ pollId })`. Resolves once the stanza is delivered (or queued).
	 */
	async createPoll(spec: PhonePollSpec): Promise<PhonePoll> {
		const id = spec.messageId ?? this.network.newMessageId()
		const messageSecret = Buffer.from(spec.messageSecret ?? randomBytes(32))
		const selectableCount = spec.selectableCount ?? 0
		const poll = { name: spec.question, options: spec.options.map(optionName => ({ optionName })), selectableOptionsCount: selectableCount }
		const content: proto.IMessage = {
			messageContextInfo: { messageSecret },
			...(selectableCount === 1 ? { pollCreationMessageV3: poll } : { pollCreationMessage: poll })
		}
		const device = this.network.targetDevice()
		const t = spec.t ?? Number(unixSeconds())
		const base = { id, t, type: 'poll', notify: this.name }
		let created: PhonePoll
		let build: (first: boolean) => Promise<BinaryNode>
		if (isGroupJid(spec.chatId)) {
			const group = this.network.group(spec.chatId)
			if (!group) {
				throw new Error(`unknown group ${spec.chatId}`)
			}
			const addressing = spec.addressing ?? group.addressingMode
			const senderJid = addressing === 'lid' ? this.lidJid : this.pnJid
			const attributes =
				addressing === 'lid'
					? { participant: this.lidJid, participant_pn: this.pnJid, addressing_mode: 'lid', ...base }
					: { participant: this.pnJid, participant_lid: this.lidJid, addressing_mode: 'pn', ...base }
			created = { id, chatId: group.jid, isGroup: true, question: spec.question, options: [...spec.options], selectableCount, messageSecret }
			build = async first => {
				if (first) {
					return this.senderKeyMessage(device, group.jid, senderJid, content, attributes)
				}
				// a retry: 1:1-encrypted for the asking device, with our sender key inside
				const senderKey = await this.signal.senderKeyDistribution(group.jid, senderJid)
				const { type, ciphertext } = await this.encryptFor(device, {
					...content,
					senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: senderKey }
				})
				return node('message', { from: group.jid, ...attributes }, [node('enc', { v: 2, type }, ciphertext)])
			}
			for (const member of group.members) {
				member.polls.set(id, { ...created, chatId: group.jid, messageSecret })
			}
		} else {
			const contact = this.network.contact(spec.chatId)
			if (!contact) {
				throw new Error(`unknown contact ${spec.chatId}`)
			}
			const addressing = spec.addressing ?? 'pn'
			const recipient = addressing === 'lid' ? contact.lidJid : contact.pnJid
			const attributes =
				addressing === 'lid'
					? { from: this.lidJid, recipient, recipient_pn: contact.pnJid, addressing_mode: 'lid', ...base }
					: { from: this.pnJid, recipient, recipient_lid: contact.lidJid, addressing_mode: 'pn', ...base }
			// what a phone sends its own other devices: the message inside a DeviceSentMessage
			const sent: proto.IMessage = {
				deviceSentMessage: { destinationJid: recipient, message: content },
				messageContextInfo: content.messageContextInfo
			}
			created = { id, chatId: recipient, isGroup: false, question: spec.question, options: [...spec.options], selectableCount, messageSecret }
			build = async () => {
				const { type, ciphertext } = await this.encryptFor(device, sent)
				return node('message', attributes, [node('enc', { v: 2, type }, ciphertext)])
			}
			contact.polls.set(id, { ...created, chatId: addressing === 'lid' ? this.lidJid : this.pnJid })
		}
		this.network.deliver(await build(true), device, { offline: spec.offline })
		this.network.rememberForRetry(id, device, () => build(false))
		this.createdPolls.push(created)
		return created
	}

	protected companionJid(device: CompanionDevice): string {
		return this.network.companionJid(device)
	}
}
