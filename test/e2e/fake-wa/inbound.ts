/**
 * Messages the client sends: acked like WhatsApp's server does, then opened by every
 * simulated recipient (contacts and the owner's phone) so polls can be checked end to end.
 */
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { bytesOf, child, childrenOf, node, unixSeconds } from './binary-io.ts'
import type { ClientConnection } from './connection.ts'
import type { FakeContact } from './contact.ts'
import type { CompanionDevice } from './devices.ts'
import type { FakeGroup } from './group.ts'
import { decodeJid, isGroupJid, lidJid, pnJid } from './jids.ts'
import type { Participant } from './participant.ts'
import type { FakePhone } from './phone.ts'
import type { DecryptedPoll, PollRecord, Recorder } from './records.ts'

export interface InboundHost {
	readonly phone: FakePhone
	readonly recorder: Recorder
	/** the contact or phone behind a device JID (device 0 only), if simulated */
	participantForJid(jid: string): FakeContact | FakePhone | undefined
	group(jid: string): FakeGroup | undefined
}

type Opened = { participant: FakeContact | FakePhone; jid: string; message: proto.Message }

export class InboundRouter {
	/** stanzas are opened one at a time: Signal state must advance in send order */
	private tail: Promise<void> = Promise.resolve()

	constructor(private readonly host: InboundHost) {}

	handle(connection: ClientConnection, stanza: BinaryNode): void {
		const device = connection.device
		connection.send(node('ack', { class: 'message', id: stanza.attrs.id, from: stanza.attrs.to, t: unixSeconds() }))
		if (!device) {
			return
		}
		this.tail = this.tail.then(() => this.open(device, stanza)).catch(() => undefined)
	}

	/** Resolves when every stanza received so far has been opened. */
	settled(): Promise<void> {
		return this.tail
	}

	private async open(device: CompanionDevice, stanza: BinaryNode): Promise<void> {
		const to = stanza.attrs.to ?? ''
		const group = isGroupJid(to) ? this.host.group(to) : undefined
		const opened = new Map<Participant, Opened>()
		const errors: PollRecord['errors'] = []

		for (const target of childrenOf(child(stanza, 'participants'), 'to')) {
			const jid = target.attrs.jid ?? ''
			const participant = this.host.participantForJid(jid)
			const enc = child(target, 'enc')
			const ciphertext = bytesOf(enc)
			const type = enc?.attrs.type
			if (!participant || !ciphertext || (type !== 'pkmsg' && type !== 'msg')) {
				continue
			}
			try {
				const message = await participant.openDirect(device, type, ciphertext)
				opened.set(participant, { participant, jid, message })
			} catch (error) {
				errors.push({ recipient: participant.pn, error: describe(error) })
			}
		}

		const skmsg = childrenOf(stanza, 'enc').find(enc => enc.attrs.type === 'skmsg')
		const groupCiphertext = bytesOf(skmsg)
		if (group && groupCiphertext) {
			const members: (FakeContact | FakePhone)[] = [this.host.phone, ...group.members]
			for (const member of members) {
				try {
					// the direct part (if any) only carried the sender key: the content is in skmsg
					const message = await member.openGroup(device, group.jid, groupCiphertext)
					const jid = group.addressingMode === 'lid' ? member.lidJid : member.pnJid
					opened.set(member, { participant: member, jid, message })
				} catch (error) {
					errors.push({ recipient: member.pn, error: describe(error) })
				}
			}
		}

		const record: PollRecord = { id: stanza.attrs.id ?? '', to, isGroup: !!group, voters: [], errors, at: Date.now() }
		for (const { participant, jid, message } of opened.values()) {
			const content = message.deviceSentMessage?.message ?? message
			participant.inbox.push(content as proto.Message)
			const poll = readPoll(participant.pn, jid, content)
			if (!poll) {
				continue
			}
			if (participant === this.host.phone) {
				record.ownerCopy = poll
			} else {
				record.voters.push(poll)
				const chatId = group
					? group.jid
					: decodeJid(to)?.server === 'lid'
						? lidJid(this.host.phone.lid)
						: pnJid(this.host.phone.pn)
				;(participant as FakeContact).polls.set(record.id, {
					id: record.id,
					chatId,
					isGroup: !!group,
					question: poll.question,
					options: poll.options,
					selectableCount: poll.selectableCount,
					messageSecret: poll.messageSecret
				})
			}
		}
		if (stanza.attrs.type === 'poll' || record.voters.length || record.ownerCopy) {
			this.host.recorder.poll(record)
		}
	}
}

function readPoll(recipient: string, recipientJid: string, content: proto.IMessage): DecryptedPoll | undefined {
	const creation = content.pollCreationMessage ?? content.pollCreationMessageV2 ?? content.pollCreationMessageV3
	if (!creation) {
		return undefined
	}
	return {
		recipient,
		recipientJid,
		question: creation.name ?? '',
		options: (creation.options ?? []).map(option => option.optionName ?? ''),
		selectableCount: creation.selectableOptionsCount ?? 0,
		messageSecret: Buffer.from(content.messageContextInfo?.messageSecret ?? new Uint8Array(0))
	}
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error)
}
