/**
 * The account owner's phone: links companions (QR or pairing code), is a Signal peer in its
 * own right (it receives the client's device-sent copies and sends the history sync).
 */
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import { node, unixSeconds } from './binary-io.ts'
import type { CompanionDevice } from './devices.ts'
import { lidJid, pnJid } from './jids.ts'
import type { Network } from './network.ts'
import { Participant } from './participant.ts'

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

	protected companionJid(device: CompanionDevice): string {
		return this.network.companionJid(device)
	}
}
