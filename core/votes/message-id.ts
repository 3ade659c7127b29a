import { createHash, randomBytes } from 'node:crypto'

/**
 * A new message id in WhatsApp Web's own form, made as Baileys' generateMessageIDV2 makes it
 * (rc14, lib/Utils/generics.js; test/core/votes/message-id.test.ts compares the two): "3EB0" and
 * the first 18 hex digits, upper case, of sha256(unix seconds as 8 bytes ‖ "<user>@c.us" ‖ 16
 * random bytes) in a 44-byte buffer. Here rather than imported: the engine and the campaign
 * sender need ids synchronously, and Baileys is imported only when an account connects (issue #16).
 */
export function generateMessageIDV2(userId?: string): string {
  const data = Buffer.alloc(8 + 20 + 16)
  data.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)))
  // jidDecode(userId).user: before the '@', without ':device' and '_agent'.
  const at = userId ? userId.indexOf('@') : -1
  const user = at < 0 ? undefined : userId!.slice(0, at).split(':')[0]!.split('_')[0]
  if (user) {
    data.write(user, 8)
    data.write('@c.us', 8 + user.length)
  }
  randomBytes(16).copy(data, 28)
  return '3EB0' + createHash('sha256').update(data).digest('hex').toUpperCase().substring(0, 18)
}
