/** The poll as the API contract shows it (API.md, GET /get-all-poll-data). */
export interface PollView {
  question: string
  options: string[]
  /** sha256 hex of the option text → option text */
  optionHashes: Record<string, string>
  /** option text → number of current voters whose selection includes it */
  results: Record<string, number>
  /** voter jid (phone-number JID when known) → current selection as option hashes */
  voters: Record<string, string[]>
  chatId: string
  /** milliseconds */
  timestamp: number
  /** 0 = any number of options, 1 = single choice */
  selectableCount: number
}

/**
 * Lifecycle of a poll this account created: `sending` is written before the send (so its
 * secret survives a crash mid-send), `sent` once WhatsApp accepted it, `failed` when the send
 * was rejected, `received` when it was created from another device of the account.
 */
export type PollStatus = 'sending' | 'sent' | 'failed' | 'received'

export type VoteStatus = 'counted' | 'superseded' | 'duplicate' | 'late' | 'pending' | 'rejected'

/** One entry of GET /polls/:id/votes. */
export interface VoteHistoryEntry {
  voter: string
  selected: string[]
  senderTimestamp: number
  receivedAt: number
  status: VoteStatus
  reason?: string
}

/** Read side of the poll store, what handlers see through the context. */
export interface PollStore {
  all(): Record<string, PollView>
  /** `{ success: true, polls: all() }` as JSON bytes, cached until a shown poll changes */
  allJson?(): Uint8Array<ArrayBuffer>
  get(pollId: string): PollView | undefined
  votes(pollId: string): VoteHistoryEntry[] | undefined
}

/**
 * A pollUpdateMessage as it came off the wire, before decryption. Journaled verbatim:
 * the journal is the source of truth and the tally is derived from it.
 */
export interface RawVote {
  /** id of the vote message; absent when journaled from the Signal layer before Baileys built the key */
  msgId?: string
  /** id of the poll creation message (pollCreationMessageKey.id) */
  pollId: string
  /** chat the vote was sent in (key.remoteJid) */
  chatId: string
  remoteJidAlt?: string
  participant?: string
  participantAlt?: string
  fromMe: boolean
  /** pollUpdateMessage.senderTimestampMs, falling back to the message timestamp × 1000 */
  senderTimestampMs: number
  encPayload: Uint8Array
  encIv: Uint8Array
  /** where it was seen: live (`notify`), offline/history (`append`), or the Signal layer before the ack */
  source: 'notify' | 'append' | 'signal'
  receivedAt: number
}
