/**
 * The owner's linked companion devices (each Baileys client that paired), remembered for the
 * fake server's lifetime so a client restarted with saved credentials logs straight in.
 */
import type { BinaryNode } from '@whiskeysockets/baileys'
import { child, childBytes, childrenOf, readUIntBE } from './binary-io.ts'
import type { PreKeyBundle } from './signal-peer.ts'

export type SignedPreKey = { keyId: number; publicKey: Buffer; signature: Buffer }

/** What the companion announced in ClientPayload.devicePairingData. */
export type RegistrationData = {
	registrationId: number
	identityKey: Buffer
	signedPreKey: SignedPreKey
}

export class CompanionDevice {
	/** one-time prekeys uploaded with `encrypt set`, handed out once each */
	readonly preKeys = new Map<number, Buffer>()
	removed = false
	/** the client processed a history sync (it asked for app state afterwards) */
	historySynced = false
	logins = 0

	constructor(
		readonly id: number,
		readonly noiseKey: Buffer,
		public registration: RegistrationData,
		readonly platform: string
	) {}

	/** `encrypt set` with registration / identity / list / skey children. */
	applyKeyUpload(iq: BinaryNode): void {
		const registrationId = readUIntBE(childBytes(iq, 'registration'))
		const identityKey = childBytes(iq, 'identity')
		const signedPreKey = parseSignedPreKey(child(iq, 'skey'))
		this.registration = {
			registrationId: registrationId ?? this.registration.registrationId,
			identityKey: identityKey ?? this.registration.identityKey,
			signedPreKey: signedPreKey ?? this.registration.signedPreKey
		}
		for (const key of childrenOf(child(iq, 'list'), 'key')) {
			const id = readUIntBE(childBytes(key, 'id'))
			const value = childBytes(key, 'value')
			if (id !== undefined && value) {
				this.preKeys.set(id, value)
			}
		}
	}

	/** `encrypt set <rotate><skey/></rotate>` */
	applySignedPreKeyRotation(iq: BinaryNode): void {
		const signedPreKey = parseSignedPreKey(child(child(iq, 'rotate'), 'skey'))
		if (signedPreKey) {
			this.registration = { ...this.registration, signedPreKey }
		}
	}

	/** A bundle for a peer starting a session with this device; consumes one prekey. */
	takeBundle(): PreKeyBundle {
		const [first] = [...this.preKeys.keys()].sort((a, b) => a - b)
		let preKey: PreKeyBundle['preKey']
		if (first !== undefined) {
			const publicKey = this.preKeys.get(first)
			this.preKeys.delete(first)
			if (publicKey) {
				preKey = { keyId: first, publicKey }
			}
		}
		const { registrationId, identityKey, signedPreKey } = this.registration
		return { registrationId, identityKey, signedPreKey, preKey }
	}
}

export function parseSignedPreKey(skey: BinaryNode | undefined): SignedPreKey | undefined {
	const keyId = readUIntBE(childBytes(skey, 'id'))
	const publicKey = childBytes(skey, 'value')
	const signature = childBytes(skey, 'signature')
	if (keyId === undefined || !publicKey || !signature) {
		return undefined
	}
	return { keyId, publicKey, signature }
}

export class DeviceRegistry {
	private readonly devices = new Map<number, CompanionDevice>()
	private nextId = 1
	/** the device votes and phone messages are encrypted for when nobody is connected */
	lastActive: CompanionDevice | undefined

	allocateId(): number {
		return this.nextId++
	}

	add(device: CompanionDevice): void {
		this.devices.set(device.id, device)
		this.lastActive = device
	}

	get(id: number): CompanionDevice | undefined {
		return this.devices.get(id)
	}

	byNoiseKey(noiseKey: Uint8Array): CompanionDevice | undefined {
		for (const device of this.devices.values()) {
			if (!device.removed && device.noiseKey.equals(noiseKey)) {
				return device
			}
		}
		return undefined
	}

	list(): CompanionDevice[] {
		return [...this.devices.values()]
	}
}
