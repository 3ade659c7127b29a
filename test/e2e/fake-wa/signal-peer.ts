/**
 * A real Signal participant (a voter's phone, or the account owner's phone) built from
 * Baileys' own repository over an in-memory key store, so it speaks exactly the protocol the
 * client under test speaks.
 */
import {
	Curve,
	DEFAULT_CONNECTION_CONFIG,
	encodeBigEndian,
	encodeWAMessage,
	generateSignalPubKey,
	initAuthCreds,
	KEY_BUNDLE_TYPE,
	proto,
	unpadRandomMax16
} from '@whiskeysockets/baileys'
import type { AuthenticationCreds, BinaryNode, SignalKeyStoreWithTransaction, SignalRepositoryWithLIDStore } from '@whiskeysockets/baileys'
import { silentLogger } from './logger.ts'
import { makeMemoryKeyStore } from './memory-keys.ts'

/** What the server hands out from `encrypt get <key>`: 32-byte keys, no type prefix. */
export type PreKeyBundle = {
	registrationId: number
	identityKey: Uint8Array
	signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array }
	preKey?: { keyId: number; publicKey: Uint8Array }
}

export type SignalCiphertext = { type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }

/** The `<user>` element of an `encrypt get` answer, the shape parseAndInjectE2ESessions reads. */
export function bundleNode(jid: string, bundle: PreKeyBundle): BinaryNode {
	const content: BinaryNode[] = [
		{ tag: 'registration', attrs: {}, content: encodeBigEndian(bundle.registrationId) },
		{ tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE },
		{ tag: 'identity', attrs: {}, content: bundle.identityKey },
		{
			tag: 'skey',
			attrs: {},
			content: [
				{ tag: 'id', attrs: {}, content: encodeBigEndian(bundle.signedPreKey.keyId, 3) },
				{ tag: 'value', attrs: {}, content: bundle.signedPreKey.publicKey },
				{ tag: 'signature', attrs: {}, content: bundle.signedPreKey.signature }
			]
		}
	]
	if (bundle.preKey) {
		content.push({
			tag: 'key',
			attrs: {},
			content: [
				{ tag: 'id', attrs: {}, content: encodeBigEndian(bundle.preKey.keyId, 3) },
				{ tag: 'value', attrs: {}, content: bundle.preKey.publicKey }
			]
		})
	}
	return { tag: 'user', attrs: { jid }, content }
}

/**
 * Signal state is order-sensitive, and every operation of every peer in this process runs one
 * after another, not just those of one peer: libsignal queues session work in a process-wide
 * bucket per remote address (here, the same companion address for every peer), and a queued
 * job runs in the async context of whoever started that bucket's executor. Two peers writing
 * to the companion at once would run one peer's session work inside the other's (or its own
 * earlier, finished) Baileys key transaction: stale session reads, lost writes, and messages
 * the companion cannot decrypt ("Key used already", "No matching sessions"). One chain for all
 * peers lets each bucket drain before the next operation starts.
 */
let signalTail: Promise<unknown> = Promise.resolve()

export class SignalPeer {
	readonly creds: AuthenticationCreds = initAuthCreds()
	readonly repo: SignalRepositoryWithLIDStore
	private readonly keys: SignalKeyStoreWithTransaction = makeMemoryKeyStore()
	private nextPreKeyId = 1

	constructor() {
		this.repo = DEFAULT_CONNECTION_CONFIG.makeSignalRepository(
			{ creds: this.creds, keys: this.keys },
			silentLogger,
			async () => []
		)
	}

	get identityKeyPair(): { public: Uint8Array; private: Uint8Array } {
		return this.creds.signedIdentityKey
	}

	/** A bundle with a fresh one-time prekey: a prekey must never be handed out twice. */
	issueBundle(): Promise<PreKeyBundle> {
		return this.serial(async () => {
			const keyId = this.nextPreKeyId++
			const keyPair = Curve.generateKeyPair()
			await this.keys.set({ 'pre-key': { [keyId.toString()]: keyPair } })
			return {
				registrationId: this.creds.registrationId,
				identityKey: this.creds.signedIdentityKey.public,
				signedPreKey: {
					keyId: this.creds.signedPreKey.keyId,
					publicKey: this.creds.signedPreKey.keyPair.public,
					signature: this.creds.signedPreKey.signature
				},
				preKey: { keyId, publicKey: keyPair.public }
			}
		})
	}

	hasSession(jid: string): Promise<boolean> {
		return this.serial(async () => (await this.repo.validateSession(jid)).exists)
	}

	startSession(jid: string, bundle: PreKeyBundle): Promise<void> {
		return this.serial(() =>
			this.repo.injectE2ESession({
				jid,
				session: {
					registrationId: bundle.registrationId,
					identityKey: generateSignalPubKey(bundle.identityKey),
					signedPreKey: {
						keyId: bundle.signedPreKey.keyId,
						publicKey: generateSignalPubKey(bundle.signedPreKey.publicKey),
						signature: bundle.signedPreKey.signature
					},
					preKey: bundle.preKey
						? { keyId: bundle.preKey.keyId, publicKey: generateSignalPubKey(bundle.preKey.publicKey) }
						: undefined
				}
			})
		)
	}

	encrypt(jid: string, message: proto.IMessage): Promise<SignalCiphertext> {
		return this.serial(() => this.repo.encryptMessage({ jid, data: encodeWAMessage(message) }))
	}

	decrypt(jid: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<proto.Message> {
		return this.serial(async () => {
			const padded = await this.repo.decryptMessage({ jid, type, ciphertext })
			return proto.Message.decode(unpadRandomMax16(padded))
		})
	}

	encryptGroup(
		group: string,
		meId: string,
		message: proto.IMessage
	): Promise<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }> {
		return this.serial(() => this.repo.encryptGroupMessage({ group, meId, data: encodeWAMessage(message) }))
	}

	/** Our current sender key for `group`, as a distribution message (sent again with a retried group message). */
	senderKeyDistribution(group: string, meId: string): Promise<Uint8Array> {
		return this.serial(() => this.repo.getSenderKeyDistributionMessage({ group, meId }))
	}

	processSenderKey(authorJid: string, item: proto.Message.ISenderKeyDistributionMessage): Promise<void> {
		return this.serial(() => this.repo.processSenderKeyDistributionMessage({ authorJid, item }))
	}

	decryptGroup(group: string, authorJid: string, ciphertext: Uint8Array): Promise<proto.Message> {
		return this.serial(async () => {
			const padded = await this.repo.decryptGroupMessage({ group, authorJid, msg: ciphertext })
			return proto.Message.decode(unpadRandomMax16(padded))
		})
	}

	private serial<T>(work: () => Promise<T>): Promise<T> {
		const run = signalTail.then(work, work)
		signalTail = run.catch(() => undefined)
		return run
	}
}
