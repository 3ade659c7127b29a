/**
 * The phone's initial history sync, inline: rc14 reads
 * `historySyncNotification.initialHistBootstrapInlinePayload` (zlib-deflated HistorySync)
 * without any media download, then emits `messaging-history.set` with these chats and
 * contacts and stores the PN↔LID mappings. It also ends Baileys' 20 s AwaitingInitialSync
 * wait on a first login.
 */
import { deflateSync } from 'node:zlib'
import { proto } from '@whiskeysockets/baileys'
import type { FakeContact } from './contact.ts'
import type { FakeGroup } from './group.ts'
import { lidJid, pnJid } from './jids.ts'

export function historySyncMessage(
	contacts: FakeContact[],
	groups: FakeGroup[],
	syncType: proto.HistorySync.HistorySyncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP
): proto.IMessage {
	const history = proto.HistorySync.encode({
		syncType,
		progress: 100,
		chunkOrder: 0,
		conversations: [
			...contacts.map(contact => ({
				id: pnJid(contact.pn),
				name: contact.name,
				displayName: contact.name,
				pnJid: pnJid(contact.pn),
				lidJid: lidJid(contact.lid)
			})),
			...groups.map(group => ({ id: group.jid, name: group.subject }))
		],
		pushnames: contacts.map(contact => ({ id: pnJid(contact.pn), pushname: contact.name })),
		phoneNumberToLidMappings: contacts.map(contact => ({ pnJid: pnJid(contact.pn), lidJid: lidJid(contact.lid) }))
	}).finish()
	return {
		protocolMessage: {
			type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
			historySyncNotification: {
				syncType,
				chunkOrder: 0,
				progress: 100,
				initialHistBootstrapInlinePayload: deflateSync(history)
			}
		}
	}
}
