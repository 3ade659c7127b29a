/** What a simulated phone (owner or contact) needs from the fake server to send stanzas. */
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { FakeContact } from './contact.ts'
import type { CompanionDevice } from './devices.ts'
import type { FakeGroup } from './group.ts'

export type DeliverOptions = {
	/** hold the stanza until the next login and deliver it then with the `offline` attribute */
	offline?: boolean
}

export interface Network {
	readonly ownerPn: string
	readonly ownerLid: string
	/** the companion (Baileys) device messages are encrypted for: the connected one, else the last active */
	targetDevice(): CompanionDevice
	/** how phones key a companion device in their Signal store */
	companionJid(device: CompanionDevice): string
	/** hands a stanza encrypted for `device` to that device's connection (or the offline queue) */
	deliver(stanza: BinaryNode, device: CompanionDevice, options?: DeliverOptions): void
	group(jid: string): FakeGroup | undefined
	/** a contact by phone number, LID or either JID */
	contact(id: string): FakeContact | undefined
	newMessageId(): string
	/**
	 * How to send message `id` again, freshly encrypted for `device`, if the client asks with a
	 * retry receipt (it could not decrypt it), as the sender's phone does for WhatsApp.
	 */
	rememberForRetry(id: string, device: CompanionDevice, resend: () => Promise<BinaryNode>): void
}
