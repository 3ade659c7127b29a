/** A group the owner belongs to, and the `w:g2` <group> element describing it. */
import type { BinaryNode } from '@whiskeysockets/baileys'
import { node } from './binary-io.ts'
import type { FakeContact } from './contact.ts'
import { groupJid, lidJid, pnJid } from './jids.ts'

export type AddressingMode = 'lid' | 'pn'

export type GroupSpec = {
	/** '120363000000000001@g.us' or the bare id */
	id: string
	subject: string
	/** contacts added with fake.addContact (or their phone numbers); the owner is always a member */
	participants: (FakeContact | string)[]
	/** how members are addressed on the wire; WhatsApp has moved groups to 'lid' (default) */
	addressingMode?: AddressingMode
	description?: string
	/** creation time, unix seconds */
	creation?: number
}

export type OwnerRef = { pn: string; lid: string }

export class FakeGroup {
	readonly jid: string
	readonly creation: number

	constructor(
		jid: string,
		public subject: string,
		readonly members: FakeContact[],
		readonly addressingMode: AddressingMode,
		readonly description: string | undefined,
		creation: number | undefined
	) {
		this.jid = groupJid(jid)
		this.creation = creation ?? Math.floor(Date.now() / 1000)
	}

	hasMember(contact: FakeContact): boolean {
		return this.members.includes(contact)
	}

	/** What extractGroupMetadata (Socket/groups.js) parses. */
	metadataNode(owner: OwnerRef): BinaryNode {
		const lidMode = this.addressingMode === 'lid'
		const ownerJid = lidMode ? lidJid(owner.lid) : pnJid(owner.pn)
		const participant = (pn: string, lid: string, type?: string): BinaryNode =>
			lidMode
				? node('participant', { jid: lidJid(lid), phone_number: pnJid(pn), type })
				: node('participant', { jid: pnJid(pn), lid: lidJid(lid), type })
		const content: BinaryNode[] = [
			participant(owner.pn, owner.lid, 'superadmin'),
			...this.members.map(member => participant(member.pn, member.lid))
		]
		if (this.description) {
			content.push(
				node('description', { id: `${this.creation}`, participant: ownerJid, t: this.creation }, [
					node('body', {}, Buffer.from(this.description))
				])
			)
		}
		return node(
			'group',
			{
				id: this.jid.split('@')[0],
				subject: this.subject,
				s_t: this.creation,
				s_o: ownerJid,
				creation: this.creation,
				creator: ownerJid,
				addressing_mode: this.addressingMode,
				size: this.members.length + 1
			},
			content
		)
	}
}
