/**
 * The server half of WhatsApp's Noise XX handshake and the transport that follows it,
 * mirroring Baileys' Utils/noise-handler.js step for step (that file is the spec).
 */
import { createHash } from 'node:crypto'
import {
	aesDecryptGCM,
	aesEncryptGCM,
	Curve,
	decodeBinaryNode,
	encodeBinaryNode,
	hkdf,
	NOISE_MODE,
	NOISE_WA_HEADER,
	proto
} from '@whiskeysockets/baileys'
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { ServerIdentity } from './certs.ts'

const EMPTY = Buffer.alloc(0)
const MAX_FRAME = 1 << 24

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest()

/** 8 zero bytes then the big-endian counter, as Baileys' generateIV does. */
function counterIv(counter: number): Buffer {
	const iv = Buffer.alloc(12)
	iv.writeUInt32BE(counter >>> 0, 8)
	return iv
}

/** Prefix a payload with its 3-byte big-endian length (server frames carry no intro header). */
export function frame(payload: Uint8Array): Buffer {
	if (payload.length >= MAX_FRAME) {
		throw new Error(`frame too large: ${payload.length}`)
	}
	const out = Buffer.alloc(3 + payload.length)
	out.writeUIntBE(payload.length, 0, 3)
	out.set(payload, 3)
	return out
}

/**
 * Splits the client's byte stream into frames. The very first WebSocket message starts with
 * the 4-byte intro header ('WA', 6, dict version); we never send edge_routing, so the 'ED'
 * routing prefix cannot occur.
 */
export class FrameReader {
	private buffer: Buffer = EMPTY
	private sawIntro = false

	push(data: Uint8Array): Buffer[] {
		this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : Buffer.from(data)
		if (!this.sawIntro) {
			if (this.buffer.length < NOISE_WA_HEADER.length) {
				return []
			}
			const intro = this.buffer.subarray(0, NOISE_WA_HEADER.length)
			if (!intro.equals(NOISE_WA_HEADER)) {
				throw new Error(`unexpected intro header ${intro.toString('hex')}`)
			}
			this.buffer = this.buffer.subarray(NOISE_WA_HEADER.length)
			this.sawIntro = true
		}
		const frames: Buffer[] = []
		while (this.buffer.length >= 3) {
			const size = this.buffer.readUIntBE(0, 3)
			if (this.buffer.length < size + 3) {
				break
			}
			frames.push(Buffer.from(this.buffer.subarray(3, size + 3)))
			this.buffer = this.buffer.subarray(size + 3)
		}
		return frames
	}
}

/** Post-handshake transport: AES-256-GCM with per-direction counters and empty AAD. */
export class NoiseTransport {
	private readCounter = 0
	private writeCounter = 0

	constructor(
		private readonly encKey: Uint8Array,
		private readonly decKey: Uint8Array
	) {}

	encodeNode(node: BinaryNode): Buffer {
		// encodeBinaryNode already prepends the 0x00 "not compressed" flags byte
		const plain = encodeBinaryNode(node)
		return frame(aesEncryptGCM(plain, this.encKey, counterIv(this.writeCounter++), EMPTY))
	}

	/** Decrypts synchronously (counters must advance in arrival order), decodes async. */
	decodeNode(body: Uint8Array): Promise<BinaryNode> {
		const plain = aesDecryptGCM(body, this.decKey, counterIv(this.readCounter++), EMPTY)
		return decodeBinaryNode(plain)
	}
}

export type FinishedHandshake = {
	clientStaticKey: Buffer
	payload: proto.ClientPayload
	transport: NoiseTransport
}

export class NoiseServerHandshake {
	private hash: Buffer
	private salt: Buffer
	private key: Buffer
	private counter = 0
	private readonly ephemeral = Curve.generateKeyPair()

	constructor(private readonly identity: ServerIdentity) {
		const mode = Buffer.from(NOISE_MODE)
		// NOISE_MODE is exactly 32 bytes, so it is used as-is rather than hashed
		this.hash = mode.length === 32 ? mode : sha256(mode)
		this.salt = this.hash
		this.key = this.hash
		this.mixHash(NOISE_WA_HEADER)
	}

	/** Consumes ClientHello and returns the ServerHello message (unframed). */
	respondToHello(helloBytes: Uint8Array): Uint8Array {
		const hello = proto.HandshakeMessage.decode(helloBytes)
		const clientEphemeral = hello.clientHello?.ephemeral
		if (!clientEphemeral || clientEphemeral.length !== 32) {
			throw new Error('client hello without a 32-byte ephemeral key')
		}
		this.mixHash(clientEphemeral)
		this.mixHash(this.ephemeral.public)
		this.mixKey(Curve.sharedKey(this.ephemeral.private, clientEphemeral))
		const staticCiphertext = this.encrypt(this.identity.staticKeyPair.public)
		this.mixKey(Curve.sharedKey(this.identity.staticKeyPair.private, clientEphemeral))
		const payloadCiphertext = this.encrypt(this.identity.certChain)
		return proto.HandshakeMessage.encode({
			serverHello: {
				ephemeral: this.ephemeral.public,
				static: staticCiphertext,
				payload: payloadCiphertext
			}
		}).finish()
	}

	/** Consumes ClientFinish: learns the client's static (noise) key and its ClientPayload. */
	finish(finishBytes: Uint8Array): FinishedHandshake {
		const message = proto.HandshakeMessage.decode(finishBytes)
		const clientFinish = message.clientFinish
		if (!clientFinish?.static || !clientFinish.payload) {
			throw new Error('client finish without static key or payload')
		}
		const clientStaticKey = this.decrypt(clientFinish.static)
		this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey))
		const payload = proto.ClientPayload.decode(this.decrypt(clientFinish.payload))
		const split = Buffer.from(hkdf(new Uint8Array(0), 64, { salt: this.salt, info: '' }))
		// the client encrypts with the first half and decrypts with the second; mirror it
		const transport = new NoiseTransport(split.subarray(32), split.subarray(0, 32))
		return { clientStaticKey, payload, transport }
	}

	private mixHash(data: Uint8Array): void {
		this.hash = sha256(this.hash, data)
	}

	private mixKey(ikm: Uint8Array): void {
		const out = Buffer.from(hkdf(ikm, 64, { salt: this.salt, info: '' }))
		this.salt = out.subarray(0, 32)
		this.key = out.subarray(32)
		this.counter = 0
	}

	private encrypt(plaintext: Uint8Array): Buffer {
		const ciphertext = aesEncryptGCM(plaintext, this.key, counterIv(this.counter++), this.hash)
		this.mixHash(ciphertext)
		return ciphertext
	}

	private decrypt(ciphertext: Uint8Array): Buffer {
		const plaintext = aesDecryptGCM(ciphertext, this.key, counterIv(this.counter++), this.hash)
		this.mixHash(ciphertext)
		return plaintext
	}
}
