/**
 * Linking a companion: <pair-device> refs for the QR, the phone's pair-success with a signed
 * ADV identity, the link-code exchange, then the 515 restart after which the client logs in.
 */
import { randomBytes } from 'node:crypto'
import { Curve } from '@whiskeysockets/baileys'
import type { BinaryNode, KeyPair } from '@whiskeysockets/baileys'
import { child, childBytes, iqError, iqResult, node, unixSeconds } from './binary-io.ts'
import type { ClientConnection } from './connection.ts'
import { CompanionDevice } from './devices.ts'
import type { DeviceRegistry } from './devices.ts'
import { lidJid, pnJid, SERVER_JID } from './jids.ts'
import {
	deriveLinkCodeAdvSecret,
	parseQr,
	pairSuccessNode,
	signDeviceIdentity,
	unwrapWithCode,
	verifyPairDeviceSign,
	wrapWithCode
} from './pairing.ts'
import type { LinkedDevice, PairingApi } from './phone.ts'
import type { Scheduler } from './scheduler.ts'

const PAIR_REPLY_TIMEOUT_MS = 10_000
/** as many refs as WhatsApp offers: Baileys shows a new QR per ref, then gives up */
const QR_REF_COUNT = 6
/** what <platform name> tells the companion the primary is */
const PRIMARY_PLATFORM = 'android'

export interface PairingHost {
	readonly ownerPn: string
	readonly ownerLid: string
	/** the phone's identity key, which signs linked devices (ADV account key) */
	ownerIdentity(): KeyPair
	readonly devices: DeviceRegistry
	readonly scheduler: Scheduler
	connections(): ClientConnection[]
	newIqId(): string
	onPaired(device: LinkedDevice): void
}

type CodeSession = {
	connection: ClientConnection
	ref: string
	wrappedCompanionEphemeral: Buffer
	claimed: boolean
	companionSharedKey?: Buffer
	finish?: { advSecret: Buffer; companionIdentityKey: Buffer }
}

export class PairingFlows implements PairingApi {
	private readonly codeSessions: CodeSession[] = []

	constructor(private readonly host: PairingHost) {}

	/** An unregistered client finished the handshake: offer it QR refs. */
	offerQr(connection: ClientConnection): void {
		connection.qrRefs = Array.from({ length: QR_REF_COUNT }, () => randomBytes(12).toString('base64'))
		connection.send(
			node(
				'iq',
				{ id: this.host.newIqId(), type: 'set', from: SERVER_JID, xmlns: 'md' },
				[node('pair-device', {}, connection.qrRefs.map(ref => node('ref', {}, Buffer.from(ref))))]
			)
		)
	}

	async scanQr(qr: string): Promise<LinkedDevice> {
		const data = parseQr(qr)
		const connection = this.host
			.connections()
			.find(
				candidate =>
					candidate.isOpen &&
					candidate.state === 'pairing' &&
					candidate.qrRefs.includes(data.ref) &&
					!!candidate.clientNoiseKey?.equals(data.noiseKey)
			)
		if (!connection) {
			throw new Error('no connected client is showing this QR')
		}
		if (!connection.registration?.identityKey.equals(data.identityKey)) {
			throw new Error('QR identity key differs from the one the client registered')
		}
		return this.complete(connection, data.identityKey, data.advSecret)
	}

	/** `md` IQs carrying <link_code_companion_reg stage=companion_hello|companion_finish>. */
	answerLinkCode(connection: ClientConnection, iq: BinaryNode): BinaryNode {
		const registration = child(iq, 'link_code_companion_reg')
		const stage = registration?.attrs.stage
		if (stage === 'companion_hello') {
			const wrapped = childBytes(registration, 'link_code_pairing_wrapped_companion_ephemeral_pub')
			const noiseKey = childBytes(registration, 'companion_server_auth_key_pub')
			if (!wrapped || !noiseKey || !connection.clientNoiseKey?.equals(noiseKey)) {
				return iqError(iq, 400, 'bad-request')
			}
			const session: CodeSession = {
				connection,
				ref: randomBytes(16).toString('hex'),
				wrappedCompanionEphemeral: wrapped,
				claimed: false
			}
			this.codeSessions.push(session)
			this.host.scheduler.poke()
			return iqResult(iq, [
				node('link_code_companion_reg', {}, [node('link_code_pairing_ref', {}, Buffer.from(session.ref))])
			])
		}
		if (stage === 'companion_finish') {
			const session = this.codeSessions.find(candidate => candidate.connection === connection && candidate.claimed)
			const bundle = childBytes(registration, 'link_code_pairing_wrapped_key_bundle')
			if (!session?.companionSharedKey || !bundle) {
				return iqError(iq, 400, 'bad-request')
			}
			try {
				session.finish = deriveLinkCodeAdvSecret(bundle, session.companionSharedKey, this.host.ownerIdentity())
			} catch {
				return iqError(iq, 401, 'not-authorized')
			}
			this.host.scheduler.poke()
			return iqResult(iq)
		}
		return iqError(iq, 400, 'bad-request')
	}

	async enterPairingCode(code: string, timeoutMs: number): Promise<LinkedDevice> {
		const { scheduler } = this.host
		const session = await scheduler.waitFor(
			() => this.codeSessions.find(candidate => !candidate.claimed && candidate.connection.isOpen),
			timeoutMs,
			'a client to request a pairing code'
		)
		session.claimed = true
		const companionEphemeral = await unwrapWithCode(code, session.wrappedCompanionEphemeral)
		const primaryEphemeral = Curve.generateKeyPair()
		session.companionSharedKey = Curve.sharedKey(primaryEphemeral.private, companionEphemeral)
		session.connection.send(
			node('notification', { from: SERVER_JID, type: 'link_code_companion_reg', id: this.host.newIqId(), t: unixSeconds() }, [
				node('link_code_companion_reg', {}, [
					node('link_code_pairing_ref', {}, Buffer.from(session.ref)),
					node('primary_identity_pub', {}, this.host.ownerIdentity().public),
					node('link_code_pairing_wrapped_primary_ephemeral_pub', {}, await wrapWithCode(code, primaryEphemeral.public))
				])
			])
		)
		// a wrong code leaves the companion with another shared key: its bundle will not open
		const finish = await scheduler.waitFor(
			() => session.finish ?? (session.connection.isOpen ? undefined : null),
			timeoutMs,
			'the client to finish the pairing-code exchange'
		)
		if (!finish) {
			throw new Error('client disconnected during the pairing-code exchange')
		}
		return this.complete(session.connection, finish.companionIdentityKey, finish.advSecret)
	}

	private async complete(connection: ClientConnection, companionIdentityKey: Buffer, advSecret: Buffer): Promise<LinkedDevice> {
		const { devices } = this.host
		const ownerIdentity = this.host.ownerIdentity()
		const registration = connection.registration
		const noiseKey = connection.clientNoiseKey
		if (!registration || !noiseKey) {
			throw new Error('client did not register for pairing')
		}
		const id = devices.allocateId()
		const identity = signDeviceIdentity(ownerIdentity, companionIdentityKey, advSecret, id)
		const linked: LinkedDevice = {
			id,
			jid: pnJid(this.host.ownerPn, id),
			lid: lidJid(this.host.ownerLid, id),
			platform: connection.platform
		}
		const reply = await connection.request(
			pairSuccessNode(this.host.newIqId(), identity, linked, PRIMARY_PLATFORM),
			PAIR_REPLY_TIMEOUT_MS
		)
		if (reply.attrs.type !== 'result' || !verifyPairDeviceSign(reply, identity, companionIdentityKey, ownerIdentity.public)) {
			throw new Error('client rejected pair-success or returned a bad device signature')
		}
		devices.add(new CompanionDevice(id, noiseKey, registration, connection.platform))
		connection.endStream(node('stream:error', { code: 515 }))
		this.host.onPaired(linked)
		return linked
	}
}
