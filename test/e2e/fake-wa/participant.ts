/**
 * What the owner's phone and every contact share: a Signal identity, sessions with the
 * companion (Baileys) devices, and decryption of what those devices send.
 */
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { node } from './binary-io.ts'
import type { AttrInput } from './binary-io.ts'
import type { CompanionDevice } from './devices.ts'
import { SignalPeer } from './signal-peer.ts'
import type { SignalCiphertext } from './signal-peer.ts'

export abstract class Participant {
	readonly signal = new SignalPeer()
	/** serialises "start a session if missing, then encrypt" so a session starts once */
	private lock: Promise<unknown> = Promise.resolve()
	/** `group|companion|senderJid` our sender key was distributed to */
	private readonly senderKeySent = new Set<string>()

	/** the companion device's address as this participant's Signal store keys it */
	protected abstract companionJid(device: CompanionDevice): string

	/** Encrypts for a companion, first building a session from its uploaded prekeys if needed. */
	encryptFor(device: CompanionDevice, message: proto.IMessage): Promise<SignalCiphertext> {
		return this.exclusive(async () => {
			const jid = this.companionJid(device)
			if (!(await this.signal.hasSession(jid))) {
				await this.signal.startSession(jid, device.takeBundle())
			}
			return this.signal.encrypt(jid, message)
		})
	}

	/** A pkmsg/msg from a companion; processes any sender key distribution it carries. */
	openDirect(device: CompanionDevice, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<proto.Message> {
		return this.exclusive(async () => {
			const jid = this.companionJid(device)
			const message = await this.signal.decrypt(jid, type, ciphertext)
			const distribution = message.senderKeyDistributionMessage
			if (distribution?.groupId && distribution.axolotlSenderKeyDistributionMessage) {
				await this.signal.processSenderKey(jid, distribution)
			}
			return message
		})
	}

	/** A group skmsg from a companion, readable once its sender key was distributed to us. */
	openGroup(device: CompanionDevice, group: string, ciphertext: Uint8Array): Promise<proto.Message> {
		return this.exclusive(() => this.signal.decryptGroup(group, this.companionJid(device), ciphertext))
	}

	/**
	 * `<message from=GROUP ...attrs>` with our sender key distribution (pkmsg/msg) the first
	 * time this device hears from `senderJid` in the group, then the skmsg itself.
	 */
	protected async senderKeyMessage(
		device: CompanionDevice,
		groupJid: string,
		senderJid: string,
		message: proto.IMessage,
		attributes: AttrInput,
		resendSenderKey = false
	): Promise<BinaryNode> {
		const { ciphertext, senderKeyDistributionMessage } = await this.signal.encryptGroup(groupJid, senderJid, message)
		const content: BinaryNode[] = []
		const sentKey = `${groupJid}|${this.companionJid(device)}|${senderJid}`
		if (resendSenderKey || !this.senderKeySent.has(sentKey)) {
			const direct = await this.encryptFor(device, {
				senderKeyDistributionMessage: { groupId: groupJid, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage }
			})
			content.push(node('enc', { v: 2, type: direct.type }, direct.ciphertext))
			this.senderKeySent.add(sentKey)
		}
		content.push(node('enc', { v: 2, type: 'skmsg' }, ciphertext))
		return node('message', { from: groupJid, ...attributes }, content)
	}

	protected exclusive<T>(work: () => Promise<T>): Promise<T> {
		const run = this.lock.then(work, work)
		this.lock = run.catch(() => undefined)
		return run
	}
}
