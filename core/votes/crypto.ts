import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { decryptPollVote, proto } from '@whiskeysockets/baileys'

/** sha256 hex of an option text: how a vote names an option, and the key of `optionHashes`. */
export function optionHash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The same hash as bytes, the form a PollVoteMessage carries. */
export function optionHashBytes(text: string): Uint8Array {
  return createHash('sha256').update(text).digest()
}

/**
 * A vote's identity: its encrypted payload (the IV is 12 random bytes per vote), scoped to
 * the poll. 128 bits are plenty against accidental collisions and keep the dedup map small.
 */
export function payloadHash(pollId: string, encIv: Uint8Array, encPayload: Uint8Array): string {
  return createHash('sha256').update(pollId).update('\0').update(encIv).update(encPayload)
    .digest().toString('hex', 0, 16)
}

export interface EncryptVoteInput {
  pollMsgId: string
  pollCreatorJid: string
  voterJid: string
  secret: Uint8Array
  /** option hashes as bytes (optionHashBytes); empty retracts */
  selectedOptions: Uint8Array[]
  /** 12 bytes; random when omitted */
  iv?: Uint8Array
}

/**
 * The exact inverse of Baileys' decryptPollVote (FAKE-WHATSAPP.md, "Voters and votes").
 * Baileys has no encrypt side; tests, the bench and the fake WhatsApp voters use this one.
 */
export function encryptPollVote(input: EncryptVoteInput): { encPayload: Uint8Array; encIv: Uint8Array } {
  const { pollMsgId, pollCreatorJid, voterJid, secret } = input
  const sign = Buffer.concat([
    Buffer.from(pollMsgId), Buffer.from(pollCreatorJid), Buffer.from(voterJid),
    Buffer.from('Poll Vote'), Buffer.from([1]),
  ])
  const key0 = createHmac('sha256', Buffer.alloc(32)).update(secret).digest()
  const encKey = createHmac('sha256', key0).update(sign).digest()
  const iv = input.iv ?? randomBytes(12)
  const plain = proto.Message.PollVoteMessage.encode({ selectedOptions: input.selectedOptions }).finish()
  const cipher = createCipheriv('aes-256-gcm', encKey, iv)
  cipher.setAAD(Buffer.from(`${pollMsgId}\u0000${voterJid}`))
  const encPayload = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  return { encPayload: new Uint8Array(encPayload), encIv: new Uint8Array(iv) }
}

export type DecryptResult =
  | { ok: true; selected: Uint8Array[]; creatorJid: string; voterJid: string }
  | { ok: false; reason: 'no_key' | 'bad_plaintext' }

/**
 * Tries every (creator, voter) pair in the order given; the GCM tag decides which one is
 * right, so the caller orders the likely pair first. A pair whose tag verifies but whose
 * plaintext is not a PollVoteMessage is a malformed vote, not a wrong key.
 */
export function decryptWithCandidates(
  vote: { encPayload: Uint8Array; encIv: Uint8Array },
  pollMsgId: string,
  secret: Uint8Array,
  creators: readonly string[],
  voters: readonly string[],
): DecryptResult {
  for (const pollCreatorJid of creators) {
    for (const voterJid of voters) {
      try {
        const msg = decryptPollVote(vote, { pollCreatorJid, pollMsgId, pollEncKey: secret, voterJid })
        return { ok: true, selected: msg.selectedOptions ?? [], creatorJid: pollCreatorJid, voterJid }
      } catch (err) {
        if (!isAuthFailure(err)) return { ok: false, reason: 'bad_plaintext' }
      }
    }
  }
  return { ok: false, reason: 'no_key' }
}

// Node reports a GCM tag mismatch as "Unsupported state or unable to authenticate data" (and a
// short tag as "Invalid authentication tag length"); anything else came after authentication.
function isAuthFailure(err: unknown): boolean {
  return err instanceof Error && /authenticat/i.test(err.message)
}
