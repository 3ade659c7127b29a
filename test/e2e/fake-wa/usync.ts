/**
 * `usync` answers: which devices a user has and their LID (rc14 keys Signal sessions by LID),
 * and whether a phone number is on WhatsApp. Every known user has exactly device 0 (the
 * phone): companions stay out of device lists, which Baileys never needs to fan out to.
 */
import type { BinaryNode } from '@whiskeysockets/baileys'
import { child, childrenOf, iqResult, node } from './binary-io.ts'
import { decodeJid, lidJid, pnJid, userPart } from './jids.ts'

/** A user the fake knows: the owner or a contact. */
export type KnownUser = { pn: string; lid: string }

export interface UsyncHost {
	lookupUser(user: string, server: string): KnownUser | undefined
}

export function answerUsync(host: UsyncHost, iq: BinaryNode): BinaryNode {
	const usync = child(iq, 'usync')
	const protocols = childrenOf(child(usync, 'query')).map(protocol => protocol.tag)
	const users = childrenOf(child(usync, 'list'), 'user')
	return iqResult(iq, [
		node(
			'usync',
			{
				sid: usync?.attrs.sid,
				index: '0',
				last: 'true',
				mode: usync?.attrs.mode,
				context: usync?.attrs.context
			},
			[node('list', {}, users.map(user => userResult(host, user, protocols)))]
		)
	])
}

function userResult(host: UsyncHost, user: BinaryNode, protocols: string[]): BinaryNode {
	const phone = child(user, 'contact')?.content
	const jid = user.attrs.jid ?? (typeof phone === 'string' ? pnJid(userPart(phone)) : undefined)
	const decoded = jid ? decodeJid(jid) : undefined
	const known = decoded ? host.lookupUser(decoded.user, decoded.server) : undefined
	const isPn = decoded?.server === 's.whatsapp.net'
	const content: BinaryNode[] = []
	for (const protocol of protocols) {
		if (protocol === 'devices') {
			const devices = known ? [node('device', { id: 0 })] : []
			content.push(node('devices', {}, [node('device-list', {}, devices)]))
		} else if (protocol === 'lid' && known && isPn) {
			content.push(node('lid', { val: lidJid(known.lid) }))
		} else if (protocol === 'contact') {
			content.push(node('contact', { type: known ? 'in' : 'out' }))
		}
	}
	return node('user', { jid: jid ?? '' }, content)
}
