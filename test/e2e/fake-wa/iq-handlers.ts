/**
 * Answers to every IQ the client sends. Baileys awaits most of them (an unanswered query
 * costs its 60 s timeout), so anything not modelled gets an empty result rather than silence.
 */
import type { BinaryNode } from '@whiskeysockets/baileys'
import { child, childrenOf, iqError, iqResult, node } from './binary-io.ts'
import type { ClientConnection } from './connection.ts'
import type { DeviceRegistry } from './devices.ts'
import type { FakeGroup } from './group.ts'
import { decodeJid } from './jids.ts'
import type { PairingFlows } from './pair-flow.ts'
import { bundleNode } from './signal-peer.ts'
import type { PreKeyBundle } from './signal-peer.ts'
import { answerUsync } from './usync.ts'
import type { UsyncHost } from './usync.ts'

export interface IqHost extends UsyncHost {
	readonly ownerPn: string
	readonly ownerLid: string
	readonly devices: DeviceRegistry
	readonly pairing: PairingFlows
	/** report a full prekey stock so the client does not upload (see FakeWhatsAppOptions) */
	readonly skipPreKeyUpload: boolean
	/** a bundle for a user's device, consuming one prekey; undefined if unknown */
	issueBundle(user: string, server: string, device: number): Promise<PreKeyBundle | undefined>
	group(jid: string): FakeGroup | undefined
	groups(): FakeGroup[]
	/** `md set <remove-companion-device>`: the client logged out */
	onLogout(connection: ClientConnection): void
}

/** what a freshly uploaded companion has (Baileys' INITIAL_PREKEY_COUNT) */
const FULL_PREKEY_STOCK = 812

const PRIVACY_DEFAULTS: Record<string, string> = {
	last: 'all',
	online: 'all',
	profile: 'all',
	status: 'all',
	groupadd: 'all',
	readreceipts: 'all',
	calladd: 'all',
	messages: 'all'
}

/** `passive set <active/>`, after which the client expects offline stanzas and live delivery. */
export function isPassiveActive(iq: BinaryNode): boolean {
	return iq.attrs.xmlns === 'passive' && childrenOf(iq)[0]?.tag === 'active'
}

export async function answerIq(host: IqHost, connection: ClientConnection, iq: BinaryNode): Promise<BinaryNode> {
	const xmlns = iq.attrs.xmlns
	const type = iq.attrs.type
	const first = childrenOf(iq)[0]?.tag
	switch (xmlns) {
		case 'encrypt':
			return answerEncrypt(host, connection, iq, type, first)
		case 'passive':
			// the server delivers offline stanzas right after answering <active/>
			return iqResult(iq)
		case 'usync':
			return answerUsync(host, iq)
		case 'w:g2':
			return answerGroups(host, iq, first)
		case 'w:sync:app:state':
			// the client only syncs app state after processing the history sync: from here on
			// its initial sync counts as done (it will not wait for history on its next login)
			if (connection.device) {
				connection.device.historySynced = true
			}
			// every requested collection, at its version, with no patches and no snapshot
			return iqResult(iq, [
				node(
					'sync',
					{},
					childrenOf(child(iq, 'sync'), 'collection').map(collection =>
						node('collection', { name: collection.attrs.name, version: collection.attrs.version || '0' })
					)
				)
			])
		case 'abt':
			return iqResult(iq, [node('props', { protocol: '1' })])
		case 'blocklist':
			return type === 'get' ? iqResult(iq, [node('list', {})]) : iqResult(iq)
		case 'privacy':
			if (type === 'get' && first === 'privacy') {
				return iqResult(iq, [
					node('privacy', {}, Object.entries(PRIVACY_DEFAULTS).map(([name, value]) => node('category', { name, value })))
				])
			}
			return iqResult(iq)
		case 'md':
			if (first === 'link_code_companion_reg') {
				return host.pairing.answerLinkCode(connection, iq)
			}
			if (first === 'remove-companion-device') {
				host.onLogout(connection)
			}
			return iqResult(iq)
		default:
			// w:p pings, w:stats, dirty bits, presence-ish queries...: an empty result is enough
			return iqResult(iq)
	}
}

async function answerEncrypt(
	host: IqHost,
	connection: ClientConnection,
	iq: BinaryNode,
	type: string | undefined,
	first: string | undefined
): Promise<BinaryNode> {
	const device = connection.device
	if (type === 'get' && first === 'count') {
		const stored = device?.preKeys.size ?? 0
		return iqResult(iq, [node('count', { value: host.skipPreKeyUpload ? Math.max(stored, FULL_PREKEY_STOCK) : stored })])
	}
	if (type === 'get' && first === 'digest') {
		// Baileys only checks that <digest> is present
		return iqResult(iq, [node('digest', {})])
	}
	if (type === 'get' && first === 'key') {
		const users: BinaryNode[] = []
		for (const user of childrenOf(child(iq, 'key'), 'user')) {
			const jid = user.attrs.jid
			const decoded = jid ? decodeJid(jid) : undefined
			const bundle = decoded ? await host.issueBundle(decoded.user, decoded.server, decoded.device) : undefined
			if (jid && bundle) {
				users.push(bundleNode(jid, bundle))
			}
		}
		return iqResult(iq, [node('list', {}, users)])
	}
	if (type === 'set' && device) {
		if (first === 'rotate') {
			device.applySignedPreKeyRotation(iq)
		} else {
			device.applyKeyUpload(iq)
		}
		return iqResult(iq)
	}
	return iqError(iq, 400, 'bad-request')
}

function answerGroups(host: IqHost, iq: BinaryNode, first: string | undefined): BinaryNode {
	const owner = { pn: host.ownerPn, lid: host.ownerLid }
	if (first === 'participating') {
		return iqResult(iq, [node('groups', {}, host.groups().map(group => group.metadataNode(owner)))])
	}
	if (first === 'query' && iq.attrs.type === 'get') {
		const group = iq.attrs.to ? host.group(iq.attrs.to) : undefined
		return group ? iqResult(iq, [group.metadataNode(owner)]) : iqError(iq, 404, 'item-not-found')
	}
	return iqError(iq, 501, 'feature-not-implemented')
}
