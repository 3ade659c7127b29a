/**
 * What the fake server saw and did, for tests to assert on: every stanza both ways, every
 * poll as each recipient decrypted it, and every receipt / ack the client sent back.
 */
import { EventEmitter } from 'node:events'
import type { BinaryNode } from '@whiskeysockets/baileys'
import { childrenOf } from './binary-io.ts'
import type { Scheduler } from './scheduler.ts'

export type StanzaRecord = {
	direction: 'from-client' | 'to-client'
	connectionId: number
	node: BinaryNode
	at: number
}

/** One recipient's view of a poll, after Signal decryption. */
export type DecryptedPoll = {
	/** the contact's phone number, or the owner's for the device-sent copy */
	recipient: string
	/** the `<to jid>` (or group member jid) the copy was addressed to */
	recipientJid: string
	question: string
	options: string[]
	selectableCount: number
	messageSecret: Buffer
}

export type PollRecord = {
	id: string
	/** the stanza's `to`: a PN / LID user or a group */
	to: string
	isGroup: boolean
	/** copies decrypted by contacts (voters) */
	voters: DecryptedPoll[]
	/** the owner's phone copy, if it decrypted one */
	ownerCopy?: DecryptedPoll
	errors: { recipient: string; error: string }[]
	at: number
}

export type ReceiptRecord = {
	/** one message id (receipts with a <list> are split into one record per id) */
	id: string
	/** absent type on the wire = plain delivery receipt */
	type: string
	to?: string
	participant?: string
	node: BinaryNode
	at: number
}

export type AckRecord = { id: string; class: string; error?: string; to?: string; node: BinaryNode; at: number }

export type DeliveredRecord = { id: string; offline: boolean; connectionId: number; node: BinaryNode; at: number }

export class Recorder {
	readonly stanzas: StanzaRecord[] = []
	readonly polls: PollRecord[] = []
	readonly receipts: ReceiptRecord[] = []
	readonly acks: AckRecord[] = []
	readonly delivered: DeliveredRecord[] = []

	constructor(
		private readonly scheduler: Scheduler,
		private readonly events: EventEmitter
	) {}

	stanza(record: StanzaRecord): void {
		this.stanzas.push(record)
		if (record.direction === 'from-client') {
			this.fromClient(record.node, record.at)
		}
		this.changed('stanza', record)
	}

	poll(record: PollRecord): void {
		this.polls.push(record)
		this.changed('poll', record)
	}

	deliveredToClient(record: DeliveredRecord): void {
		this.delivered.push(record)
		this.changed('delivered', record)
	}

	private fromClient(stanza: BinaryNode, at: number): void {
		if (stanza.tag === 'receipt') {
			const ids = [stanza.attrs.id, ...childrenOf(childrenOf(stanza, 'list')[0], 'item').map(item => item.attrs.id)]
			for (const id of ids) {
				if (id) {
					const record: ReceiptRecord = {
						id,
						type: stanza.attrs.type || 'delivery',
						to: stanza.attrs.to,
						participant: stanza.attrs.participant,
						node: stanza,
						at
					}
					this.receipts.push(record)
					this.events.emit('receipt', record)
				}
			}
		} else if (stanza.tag === 'ack' && stanza.attrs.id) {
			const record: AckRecord = {
				id: stanza.attrs.id,
				class: stanza.attrs.class ?? '',
				error: stanza.attrs.error,
				to: stanza.attrs.to,
				node: stanza,
				at
			}
			this.acks.push(record)
			this.events.emit('ack', record)
		}
	}

	private changed(event: string, payload: unknown): void {
		this.events.emit(event, payload)
		this.scheduler.poke()
	}
}
