/**
 * The exact inverse of Baileys' decryptPollVote (Utils/process-message.js), which rc14 has no
 * encrypt counterpart for:
 *   sign   = msgId ‖ creatorJid ‖ voterJid ‖ "Poll Vote" ‖ 0x01
 *   key0   = HMAC-SHA256(key = 32 zero bytes, data = messageSecret)
 *   encKey = HMAC-SHA256(key = key0, data = sign)
 *   AES-256-GCM(PollVoteMessage, encKey, 12-byte iv, aad = `${msgId}\0${voterJid}`) ‖ tag
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { aesEncryptGCM, proto } from '@whiskeysockets/baileys'

export type PollVoteContext = {
	pollMsgId: string
	pollCreatorJid: string
	voterJid: string
	messageSecret: Uint8Array
}

/** WhatsApp identifies an option by the SHA-256 of its text. */
export function optionHash(optionName: string): Buffer {
	return createHash('sha256').update(Buffer.from(optionName)).digest()
}

export function encryptPollVote(
	selectedOptions: string[],
	{ pollMsgId, pollCreatorJid, voterJid, messageSecret }: PollVoteContext
): { encPayload: Buffer; encIv: Buffer } {
	const sign = Buffer.concat([
		Buffer.from(pollMsgId),
		Buffer.from(pollCreatorJid),
		Buffer.from(voterJid),
		Buffer.from('Poll Vote'),
		Buffer.from([1])
	])
	const key0 = createHmac('sha256', new Uint8Array(32)).update(messageSecret).digest()
	const encKey = createHmac('sha256', key0).update(sign).digest()
	const encIv = randomBytes(12)
	const plaintext = proto.Message.PollVoteMessage.encode({
		selectedOptions: selectedOptions.map(optionHash)
	}).finish()
	const encPayload = aesEncryptGCM(plaintext, encKey, encIv, Buffer.from(`${pollMsgId}\u0000${voterJid}`))
	return { encPayload, encIv }
}
