/**
 * A contact with a real Signal identity: reads what the client sends it (polls included)
 * and sends votes and texts back the way WhatsApp's servers relay them.
 */
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { node, unixSeconds } from './binary-io.ts'
import type { CompanionDevice } from './devices.ts'
import type { AddressingMode, FakeGroup } from './group.ts'
import { isGroupJid, lidJid, pnJid } from './jids.ts'
import type { Network } from './network.ts'
import { Participant } from './participant.ts'
import { encryptPollVote } from './poll-crypto.ts'

export type ContactSpec = {
	/** phone number, digits only (a JID or '+' prefix is accepted) */
	pn: string
	/** LID user, digits only (or 'NNN@lid') */
	lid: string
	name?: string
}

/** A poll this contact decrypted, as it would show on the contact's phone. */
export type ReceivedPoll = {
	id: string
	/** the group, or the owner's JID as the `to` of a 1:1 chat */
	chatId: string
	isGroup: boolean
	question: string
	options: string[]
	selectableCount: number
	messageSecret: Buffer
}

export type JidKind = 'pn' | 'lid'

export type SendOptions = {
	/** the chat: a group JID; omit for the 1:1 chat with the owner */
	chatId?: string
	/** envelope addressing; default: the group's mode, 'lid' for 1:1 chats */
	addressing?: AddressingMode
	/** stanza id; default: a fresh random id */
	messageId?: string
	/** stanza `t`, unix seconds; default: now */
	t?: number
	/** hold until the client's next login and deliver with the `offline` attribute */
	offline?: boolean
	/** 2 = deliver a duplicate of the same message id */
	times?: 1 | 2
	/**
	 * 'reencrypt' (default): the duplicate is the same message (same id) freshly Signal-
	 * encrypted, so the client decrypts and upserts it twice. 'replay': the byte-identical
	 * stanza again; its Signal message key is spent, so the client sends a retry receipt, nacks
	 * it and upserts a CIPHERTEXT stub with the same id; the contact then answers the retry with
	 * the message freshly encrypted (unless the fake runs with `answerRetries: false`).
	 */
	duplicateMode?: 'reencrypt' | 'replay'
	/** the `notify` push name; default: the contact's name; null to omit */
	pushName?: string | null
	/** groups: send our sender key distribution again even if this device already has it */
	resendSenderKey?: boolean
}

export type VoteOptions = SendOptions & {
	pollId: string
	/** option texts; an empty list retracts the vote (not needed with `raw`) */
	options?: string[]
	/** which owner JID goes into the vote's HMAC sign; default: follows `addressing` */
	creatorJid?: JidKind
	/** which voter JID goes into the sign and the GCM aad; default: follows `addressing` */
	voterJid?: JidKind
	senderTimestampMs?: number
	/** needed only when this contact never received the poll (and no `raw` is given) */
	messageSecret?: Uint8Array
	/**
	 * Send these bytes as the vote instead of encrypting one: another voter's ciphertext
	 * (see `votesSent` / `sealVote`), or junk. No secret is needed.
	 */
	raw?: { encPayload: Uint8Array; encIv: Uint8Array }
	/**
	 * Wrap the pollUpdateMessage as WhatsApp does in some chats: `ephemeral` =
	 * `ephemeralMessage` (disappearing messages on), `viewOnce` = `viewOnceMessageV2`,
	 * `edited` = `editedMessage`. Default: bare.
	 */
	wrap?: VoteWrap
}

export type VoteWrap = 'ephemeral' | 'viewOnce' | 'edited'

/** What `sealVote` builds: the vote's encrypted payload and IV, as they go on the wire. */
export type SealedVote = { encPayload: Buffer; encIv: Buffer }

/** A vote this contact sent (`votesSent`): its message id and the exact bytes of its vote. */
export type VoteRecord = SealedVote & {
	id: string
	pollId: string
	/** the group, or undefined for the 1:1 chat with the owner */
	chatId?: string
	/** option texts, when the fake encrypted the vote itself (not for `raw`) */
	options?: string[]
	senderTimestampMs: number
	wrap?: VoteWrap
}

export class FakeContact extends Participant {
	readonly pn: string
	readonly lid: string
	readonly name: string
	readonly pnJid: string
	readonly lidJid: string
	/** polls this contact decrypted, by message id */
	readonly polls = new Map<string, ReceivedPoll>()
	/** every message this contact decrypted from the client, in order */
	readonly inbox: proto.Message[] = []
	/** every vote this contact sent, in order, with its encPayload / encIv */
	readonly votesSent: VoteRecord[] = []

	constructor(
		spec: { pn: string; lid: string; name: string },
		private readonly network: Network
	) {
		super()
		this.pn = spec.pn
		this.lid = spec.lid
		this.name = spec.name
		this.pnJid = pnJid(spec.pn)
		this.lidJid = lidJid(spec.lid)
	}

	jid(kind: JidKind): string {
		return kind === 'pn' ? this.pnJid : this.lidJid
	}

	/** The poll `pollId` if this contact decrypted it (see fake.waitForPoll to wait for it). */
	receivedPoll(pollId: string): ReceivedPoll | undefined {
		return this.polls.get(pollId)
	}

	/**
	 * Encrypts a vote as `vote()` would (same options, same defaults) without sending it: its
	 * bytes can be sent later with `vote({ raw })`, by this contact or, copied, by another.
	 */
	sealVote(options: VoteOptions): SealedVote {
		const poll = this.polls.get(options.pollId)
		const messageSecret = options.messageSecret ?? poll?.messageSecret
		if (!messageSecret) {
			throw new Error(`${this.name} never received poll ${options.pollId}: pass messageSecret`)
		}
		if (!options.options) {
			throw new Error('a vote needs options (or raw bytes)')
		}
		const group = this.groupFor(options.chatId ?? (poll?.isGroup ? poll.chatId : undefined))
		const addressing = options.addressing ?? group?.addressingMode ?? 'lid'
		return encryptPollVote(options.options, {
			pollMsgId: options.pollId,
			pollCreatorJid: this.ownerJid(options.creatorJid ?? addressing),
			voterJid: this.jid(options.voterJid ?? addressing),
			messageSecret
		})
	}

	/** Encrypts (or takes `raw`) and delivers a vote; resolves with the vote message's id. */
	async vote(options: VoteOptions): Promise<string> {
		const poll = this.polls.get(options.pollId)
		const chatId = options.chatId ?? (poll?.isGroup ? poll.chatId : undefined)
		const group = this.groupFor(chatId)
		const addressing = options.addressing ?? group?.addressingMode ?? 'lid'
		const creatorJid = this.ownerJid(options.creatorJid ?? addressing)
		const vote: SealedVote = options.raw
			? { encPayload: Buffer.from(options.raw.encPayload), encIv: Buffer.from(options.raw.encIv) }
			: this.sealVote({ ...options, chatId: group?.jid, addressing })
		const senderTimestampMs = options.senderTimestampMs ?? Date.now()
		const pollUpdateMessage: proto.Message.IPollUpdateMessage = {
			pollCreationMessageKey: group
				? { remoteJid: group.jid, fromMe: false, id: options.pollId, participant: creatorJid }
				: { remoteJid: this.ownerJid(addressing), fromMe: false, id: options.pollId },
			vote,
			senderTimestampMs
		}
		const id = await this.send(wrapMessage({ pollUpdateMessage }, options.wrap), 'poll', { ...options, chatId: group?.jid, addressing })
		this.votesSent.push({
			id,
			pollId: options.pollId,
			chatId: group?.jid,
			options: options.raw ? undefined : options.options,
			encPayload: vote.encPayload,
			encIv: vote.encIv,
			senderTimestampMs,
			wrap: options.wrap
		})
		return id
	}

	/** A plain text message, e.g. so the client learns this contact's push name. */
	sendText(text: string, options: SendOptions = {}): Promise<string> {
		return this.send({ conversation: text }, 'text', options)
	}

	/** Delivers any message; resolves with its id. */
	async send(message: proto.IMessage, type: string, options: SendOptions = {}): Promise<string> {
		const group = this.groupFor(options.chatId)
		const addressing = options.addressing ?? group?.addressingMode ?? 'lid'
		const device = this.network.targetDevice()
		const id = options.messageId ?? this.network.newMessageId()
		const t = options.t ?? Number(unixSeconds())
		const pushName = options.pushName === undefined ? this.name : (options.pushName ?? undefined)
		const build = (resendSenderKey: boolean): Promise<BinaryNode> =>
			group
				? this.groupEnvelope(device, group, message, { id, t, type, addressing, pushName, resendSenderKey })
				: this.chatEnvelope(device, message, { id, t, type, addressing, pushName })
		const first = await build(!!options.resendSenderKey)
		this.network.deliver(first, device, { offline: options.offline })
		// a retry is answered as phones do: the message again, encrypted to the asking device alone
		const meta = { id, t, type, addressing, pushName }
		this.network.rememberForRetry(id, device, () =>
			group ? this.groupRetryEnvelope(device, group, message, meta) : this.chatEnvelope(device, message, meta)
		)
		if ((options.times ?? 1) > 1) {
			const again = options.duplicateMode === 'replay' ? first : await build(false)
			this.network.deliver(again, device, { offline: options.offline })
		}
		return id
	}

	protected companionJid(device: CompanionDevice): string {
		return this.network.companionJid(device)
	}

	private ownerJid(kind: JidKind): string {
		return kind === 'pn' ? pnJid(this.network.ownerPn) : lidJid(this.network.ownerLid)
	}

	private groupFor(chatId: string | undefined): FakeGroup | undefined {
		if (!chatId || !isGroupJid(chatId)) {
			return undefined
		}
		const group = this.network.group(chatId)
		if (!group) {
			throw new Error(`unknown group ${chatId}`)
		}
		if (!group.hasMember(this)) {
			throw new Error(`${this.name} is not a member of ${chatId}`)
		}
		return group
	}

	/** `<message from=LID sender_pn=PN addressing_mode=lid>` (or the PN-addressed mirror image) */
	private async chatEnvelope(device: CompanionDevice, message: proto.IMessage, meta: EnvelopeMeta): Promise<BinaryNode> {
		const { type, ciphertext } = await this.encryptFor(device, message)
		const addressing =
			meta.addressing === 'lid'
				? { from: this.lidJid, sender_pn: this.pnJid, addressing_mode: 'lid' }
				: { from: this.pnJid, sender_lid: this.lidJid, addressing_mode: 'pn' }
		return node('message', { ...addressing, id: meta.id, t: meta.t, type: meta.type, notify: meta.pushName }, [
			node('enc', { v: 2, type }, ciphertext)
		])
	}

	/**
	 * A group message again, for one device that could not decrypt it, as WhatsApp clients
	 * answer a retry: 1:1-encrypted, no skmsg, with our current sender key inside (the device
	 * may have lost it, and it needs it for what we send next).
	 */
	private async groupRetryEnvelope(device: CompanionDevice, group: FakeGroup, message: proto.IMessage, meta: EnvelopeMeta): Promise<BinaryNode> {
		const senderKey = await this.signal.senderKeyDistribution(group.jid, this.jid(meta.addressing))
		const { type, ciphertext } = await this.encryptFor(device, {
			...message,
			senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: senderKey }
		})
		return node('message', { from: group.jid, ...this.participantAttrs(meta.addressing), id: meta.id, t: meta.t, type: meta.type, notify: meta.pushName }, [
			node('enc', { v: 2, type }, ciphertext)
		])
	}

	private participantAttrs(addressing: AddressingMode): Record<string, string> {
		return addressing === 'lid'
			? { participant: this.lidJid, participant_pn: this.pnJid, addressing_mode: 'lid' }
			: { participant: this.pnJid, participant_lid: this.lidJid, addressing_mode: 'pn' }
	}

	/** `<message from=GROUP participant=...>`: our sender key distribution when needed, then the skmsg. */
	private groupEnvelope(
		device: CompanionDevice,
		group: FakeGroup,
		message: proto.IMessage,
		meta: EnvelopeMeta & { resendSenderKey: boolean }
	): Promise<BinaryNode> {
		return this.senderKeyMessage(
			device,
			group.jid,
			this.jid(meta.addressing),
			message,
			{ ...this.participantAttrs(meta.addressing), id: meta.id, t: meta.t, type: meta.type, notify: meta.pushName },
			meta.resendSenderKey
		)
	}
}

/** The message inside the wrapper WhatsApp uses for disappearing, view-once or edited messages. */
function wrapMessage(message: proto.IMessage, wrap: VoteWrap | undefined): proto.IMessage {
	switch (wrap) {
		case undefined:
			return message
		case 'ephemeral':
			return { ephemeralMessage: { message } }
		case 'viewOnce':
			return { viewOnceMessageV2: { message } }
		case 'edited':
			return { editedMessage: { message } }
	}
}

type EnvelopeMeta = { id: string; t: number; type: string; addressing: AddressingMode; pushName: string | undefined }
