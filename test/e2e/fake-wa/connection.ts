/**
 * One client WebSocket: runs the Noise handshake, then turns frames into BinaryNodes (in
 * arrival order) for the server, and lets the server send nodes and await IQ answers.
 */
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import WebSocket from 'ws'
import type { ServerIdentity } from './certs.ts'
import type { CompanionDevice, RegistrationData } from './devices.ts'
import { frame, FrameReader, NoiseServerHandshake } from './noise.ts'
import type { FinishedHandshake, NoiseTransport } from './noise.ts'
import type { Scheduler } from './scheduler.ts'

export type ConnectionState = 'handshake' | 'pairing' | 'logged-in' | 'closed'

export interface ConnectionHost {
	readonly identity: ServerIdentity
	readonly scheduler: Scheduler
	onAuthenticated(connection: ClientConnection, handshake: FinishedHandshake): void
	onNode(connection: ClientConnection, node: BinaryNode): Promise<void>
	onClosed(connection: ClientConnection): void
	record(connection: ClientConnection, direction: 'from-client' | 'to-client', node: BinaryNode): void
}

type PendingIq = { resolve: (node: BinaryNode) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }

const STREAM_END_GRACE_MS = 1000

export class ClientConnection {
	state: ConnectionState = 'handshake'
	/** the companion's Noise static key, known once the handshake finished */
	clientNoiseKey: Buffer | undefined
	payload: proto.ClientPayload | undefined
	/** set while pairing: what ClientPayload.devicePairingData announced */
	registration: RegistrationData | undefined
	/** "os / platform type" from the registration's DeviceProps */
	platform = 'unknown'
	/** refs offered in <pair-device>, matched by a scanned QR */
	qrRefs: string[] = []
	/** set once logged in */
	device: CompanionDevice | undefined
	/** true once offline stanzas and <ib><offline/> went out: live delivery may start */
	ready = false

	private readonly reader = new FrameReader()
	private readonly handshake: NoiseServerHandshake
	private sentServerHello = false
	private transport: NoiseTransport | undefined
	private readonly pending = new Map<string, PendingIq>()
	private inbox: Promise<void> = Promise.resolve()
	private endTimer: NodeJS.Timeout | undefined

	constructor(
		readonly id: number,
		private readonly ws: WebSocket,
		private readonly host: ConnectionHost
	) {
		this.handshake = new NoiseServerHandshake(host.identity)
		ws.on('message', data => this.onData(toBuffer(data)))
		ws.on('close', () => this.onClose())
		// a client vanishing mid-frame surfaces as an error followed by close
		ws.on('error', () => undefined)
	}

	get isOpen(): boolean {
		return this.state !== 'closed' && this.ws.readyState === WebSocket.OPEN
	}

	send(stanza: BinaryNode): void {
		if (!this.transport || !this.isOpen) {
			return
		}
		this.host.record(this, 'to-client', stanza)
		this.ws.send(this.transport.encodeNode(stanza))
	}

	/** Sends a server-initiated IQ and resolves with the client's answer. */
	request(stanza: BinaryNode, timeoutMs: number): Promise<BinaryNode> {
		const id = stanza.attrs.id
		if (!id) {
			return Promise.reject(new Error('request without id'))
		}
		return new Promise<BinaryNode>((resolve, reject) => {
			const timer = this.host.scheduler.setTimeout(() => {
				this.pending.delete(id)
				reject(new Error(`client did not answer iq ${id} within ${timeoutMs} ms`))
			}, timeoutMs)
			this.pending.set(id, { resolve, reject, timer })
			this.send(stanza)
		})
	}

	/**
	 * Sends a stream error and leaves closing to the client (as WhatsApp does); terminates the
	 * socket ourselves if the client has not closed it after a grace period.
	 */
	endStream(stanza: BinaryNode): void {
		this.send(stanza)
		this.scheduleTerminate()
	}

	/** Abrupt drop: no close frame, as a network failure would look. */
	terminate(): void {
		this.ws.terminate()
		this.onClose()
	}

	private scheduleTerminate(): void {
		if (!this.endTimer) {
			this.endTimer = this.host.scheduler.setTimeout(() => this.terminate(), STREAM_END_GRACE_MS)
		}
	}

	private onData(data: Buffer): void {
		let frames: Buffer[]
		try {
			frames = this.reader.push(data)
		} catch {
			this.terminate()
			return
		}
		for (const body of frames) {
			if (this.state === 'closed') {
				return
			}
			if (!this.sentServerHello) {
				this.sentServerHello = true
				this.guard(() => this.ws.send(frame(this.handshake.respondToHello(body))))
			} else if (!this.transport) {
				this.guard(() => {
					const finished = this.handshake.finish(body)
					this.transport = finished.transport
					this.clientNoiseKey = finished.clientStaticKey
					this.payload = finished.payload
					this.host.onAuthenticated(this, finished)
				})
			} else {
				const transport = this.transport
				let decoded: Promise<BinaryNode>
				try {
					// decrypt now, in arrival order; handle in order on the inbox chain
					decoded = transport.decodeNode(body)
				} catch {
					this.terminate()
					return
				}
				this.inbox = this.inbox.then(async () => {
					const stanza = await decoded
					if (this.state === 'closed') {
						return
					}
					this.host.record(this, 'from-client', stanza)
					if (this.resolvePending(stanza)) {
						return
					}
					await this.host.onNode(this, stanza)
				}).catch(() => undefined)
			}
		}
	}

	private resolvePending(stanza: BinaryNode): boolean {
		const id = stanza.attrs.id
		if (stanza.tag !== 'iq' || !id || (stanza.attrs.type !== 'result' && stanza.attrs.type !== 'error')) {
			return false
		}
		const pending = this.pending.get(id)
		if (!pending) {
			return false
		}
		this.pending.delete(id)
		this.host.scheduler.clearTimeout(pending.timer)
		pending.resolve(stanza)
		return true
	}

	private guard(step: () => void): void {
		try {
			step()
		} catch {
			this.terminate()
		}
	}

	private onClose(): void {
		if (this.state === 'closed') {
			return
		}
		this.state = 'closed'
		this.host.scheduler.clearTimeout(this.endTimer)
		for (const [id, pending] of this.pending) {
			this.host.scheduler.clearTimeout(pending.timer)
			pending.reject(new Error(`connection closed before iq ${id} was answered`))
		}
		this.pending.clear()
		this.host.onClosed(this)
	}
}

function toBuffer(data: WebSocket.RawData): Buffer {
	if (Buffer.isBuffer(data)) {
		return data
	}
	if (Array.isArray(data)) {
		return Buffer.concat(data)
	}
	return Buffer.from(data)
}
