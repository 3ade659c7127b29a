/** JID spelling for the fake server: PN users on s.whatsapp.net, LID users on lid. */
import { jidDecode } from '@whiskeysockets/baileys'

export const SERVER_JID = 's.whatsapp.net'

/** Accepts '15551110001', '+1 555 111 0001' or '15551110001@s.whatsapp.net'. */
export function userPart(id: string): string {
	const user = id.includes('@') ? (jidDecode(id)?.user ?? '') : id
	return user.replace(/[^0-9]/g, '')
}

export function pnJid(user: string, device?: number): string {
	return device ? `${user}:${device}@${SERVER_JID}` : `${user}@${SERVER_JID}`
}

export function lidJid(user: string, device?: number): string {
	return device ? `${user}:${device}@lid` : `${user}@lid`
}

export type DecodedJid = { user: string; device: number; server: string }

export function decodeJid(jid: string): DecodedJid | undefined {
	const decoded = jidDecode(jid)
	if (!decoded) {
		return undefined
	}
	return { user: decoded.user, device: decoded.device ?? 0, server: decoded.server }
}

export function isGroupJid(jid: string | undefined): boolean {
	return !!jid && jid.endsWith('@g.us')
}

export function groupJid(id: string): string {
	return id.includes('@') ? id : `${id}@g.us`
}
