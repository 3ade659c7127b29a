/**
 * The phone's side of linking a companion: reading the QR, the ADV device identity it signs
 * (the inverse of Baileys' configureSuccessfulPairing), and the link-code ("pairing code")
 * key exchange (the inverse of messages-recv.js' link_code_companion_reg handler).
 */
import { createHmac, randomBytes } from 'node:crypto'
import {
	aesDecryptCTR,
	aesDecryptGCM,
	aesEncryptCTR,
	Curve,
	derivePairingCodeKey,
	hkdf,
	proto,
	WA_ADV_ACCOUNT_SIG_PREFIX,
	WA_ADV_DEVICE_SIG_PREFIX
} from '@whiskeysockets/baileys'
import type { BinaryNode, KeyPair } from '@whiskeysockets/baileys'
import { child, node, readUIntBE } from './binary-io.ts'
import type { RegistrationData } from './devices.ts'
import { SERVER_JID } from './jids.ts'

export type QrData = {
	ref: string
	noiseKey: Buffer
	identityKey: Buffer
	advSecret: Buffer
	platform: string
}

/** `https://wa.me/settings/linked_devices#ref,noiseKeyB64,identityKeyB64,advSecretB64,platform` */
export function parseQr(qr: string): QrData {
	const body = qr.includes('#') ? qr.slice(qr.indexOf('#') + 1) : qr
	const [ref, noiseKey, identityKey, advSecret, platform] = body.split(',')
	if (!ref || !noiseKey || !identityKey || !advSecret) {
		throw new Error(`not a WhatsApp pairing QR: ${qr}`)
	}
	return {
		ref,
		noiseKey: Buffer.from(noiseKey, 'base64'),
		identityKey: Buffer.from(identityKey, 'base64'),
		advSecret: Buffer.from(advSecret, 'base64'),
		platform: platform ?? ''
	}
}

export function registrationFromPayload(payload: proto.ClientPayload): RegistrationData | undefined {
	const data = payload.devicePairingData
	const registrationId = readUIntBE(data?.eRegid ?? undefined)
	const keyId = readUIntBE(data?.eSkeyId ?? undefined)
	if (!data?.eIdent || !data.eSkeyVal || !data.eSkeySig || registrationId === undefined || keyId === undefined) {
		return undefined
	}
	return {
		registrationId,
		identityKey: Buffer.from(data.eIdent),
		signedPreKey: { keyId, publicKey: Buffer.from(data.eSkeyVal), signature: Buffer.from(data.eSkeySig) }
	}
}

/** e.g. "Mac OS / CHROME", from the DeviceProps the companion registered with */
export function platformFromPayload(payload: proto.ClientPayload): string {
	const bytes = payload.devicePairingData?.deviceProps
	if (!bytes) {
		return 'unknown'
	}
	const props = proto.DeviceProps.decode(bytes)
	const type = props.platformType ?? proto.DeviceProps.PlatformType.UNKNOWN
	return `${props.os ?? 'unknown'} / ${proto.DeviceProps.PlatformType[type] ?? type}`
}

export type SignedIdentity = {
	/** ADVSignedDeviceIdentityHMAC bytes, the content of <device-identity> */
	deviceIdentity: Uint8Array
	/** ADVDeviceIdentity bytes, to check the companion's device signature against */
	details: Uint8Array
	keyIndex: number
}

/**
 * details = ADVDeviceIdentity; accountSignature = Curve.sign(account key, [6,0] ‖ details ‖
 * companion identity); hmac = HMAC-SHA256(advSecret, ADVSignedDeviceIdentity).
 */
export function signDeviceIdentity(
	accountKeyPair: KeyPair,
	companionIdentityKey: Uint8Array,
	advSecret: Uint8Array,
	keyIndex: number
): SignedIdentity {
	const details = proto.ADVDeviceIdentity.encode({
		rawId: randomBytes(4).readUInt32BE(0),
		timestamp: Math.floor(Date.now() / 1000),
		keyIndex
	}).finish()
	const accountSignature = Curve.sign(
		accountKeyPair.private,
		Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, companionIdentityKey])
	)
	const signed = proto.ADVSignedDeviceIdentity.encode({
		details,
		accountSignatureKey: accountKeyPair.public,
		accountSignature
	}).finish()
	const hmac = createHmac('sha256', advSecret).update(signed).digest()
	const deviceIdentity = proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish()
	return { deviceIdentity, details, keyIndex }
}

export function pairSuccessNode(
	id: string,
	identity: SignedIdentity,
	device: { jid: string; lid: string },
	platform: string
): BinaryNode {
	return node('iq', { id, type: 'set', from: SERVER_JID, xmlns: 'md' }, [
		node('pair-success', {}, [
			node('device-identity', { 'key-index': identity.keyIndex }, identity.deviceIdentity),
			node('platform', { name: platform }),
			node('device', { jid: device.jid, lid: device.lid })
		])
	])
}

/** The companion's <pair-device-sign>: deviceSignature over [6,1] ‖ details ‖ identity ‖ account key. */
export function verifyPairDeviceSign(
	reply: BinaryNode,
	identity: SignedIdentity,
	companionIdentityKey: Uint8Array,
	accountPublicKey: Uint8Array
): boolean {
	const content = child(child(reply, 'pair-device-sign'), 'device-identity')?.content
	if (!(content instanceof Uint8Array)) {
		return false
	}
	const account = proto.ADVSignedDeviceIdentity.decode(content)
	if (!account.deviceSignature) {
		return false
	}
	const message = Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, identity.details, companionIdentityKey, accountPublicKey])
	return Curve.verify(companionIdentityKey, message, account.deviceSignature)
}

// ---- pairing code ------------------------------------------------------------------------

/** salt(32) ‖ iv(16) ‖ AES-256-CTR(32-byte key, PBKDF2(code, salt)) */
export async function unwrapWithCode(code: string, wrapped: Uint8Array): Promise<Buffer> {
	const bytes = Buffer.from(wrapped)
	if (bytes.length < 80) {
		throw new Error(`wrapped link-code key too short: ${bytes.length}`)
	}
	const key = await derivePairingCodeKey(code, bytes.subarray(0, 32))
	return aesDecryptCTR(bytes.subarray(48, 80), key, bytes.subarray(32, 48))
}

export async function wrapWithCode(code: string, publicKey: Uint8Array): Promise<Buffer> {
	const salt = randomBytes(32)
	const iv = randomBytes(16)
	const key = await derivePairingCodeKey(code, salt)
	return Buffer.concat([salt, iv, aesEncryptCTR(publicKey, key, iv)])
}

/**
 * Opens the companion's wrapped key bundle (salt ‖ iv ‖ GCM(companion identity ‖ primary
 * identity ‖ random)) and derives the ADV secret both sides then share:
 * HKDF(companionShared ‖ identityShared ‖ random, info 'adv_secret').
 */
export function deriveLinkCodeAdvSecret(
	wrappedBundle: Uint8Array,
	companionSharedKey: Uint8Array,
	primaryIdentity: KeyPair
): { advSecret: Buffer; companionIdentityKey: Buffer } {
	const bytes = Buffer.from(wrappedBundle)
	const salt = bytes.subarray(0, 32)
	const iv = bytes.subarray(32, 44)
	const key = hkdf(companionSharedKey, 32, { salt, info: 'link_code_pairing_key_bundle_encryption_key' })
	const bundle = aesDecryptGCM(bytes.subarray(44), key, iv, Buffer.alloc(0))
	const companionIdentityKey = bundle.subarray(0, 32)
	const primaryIdentityKey = bundle.subarray(32, 64)
	const random = bundle.subarray(64)
	if (!primaryIdentityKey.equals(Buffer.from(primaryIdentity.public))) {
		throw new Error('link-code key bundle names another primary identity')
	}
	const identitySharedKey = Curve.sharedKey(primaryIdentity.private, companionIdentityKey)
	const advSecret = Buffer.from(
		hkdf(Buffer.concat([companionSharedKey, identitySharedKey, random]), 32, { info: 'adv_secret' })
	)
	return { advSecret, companionIdentityKey: Buffer.from(companionIdentityKey) }
}
