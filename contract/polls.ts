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

/**
 * The polls as handlers and the broadcaster read them; the vote engine implements it. A view
 * is immutable: a poll that changes gets a new view object, an unchanged one keeps its own, so
 * readers may cache by identity.
 */
export interface PollReader {
  /** every shown poll by id */
  all(): Record<string, PollView>
  /**
   * The JSON text of all(), in pieces that join into it; each poll's text is made when its piece
   * is read, so a long body can be streamed without holding all of it.
   */
  allJson(): Iterable<string>
  /**
   * Changes whenever all() would show something else (a reader that cannot tell gives a new
   * one every time): what a cache of the body is keyed by.
   */
  revision(): number
  get(pollId: string): PollView | undefined
  /** the vote history, oldest first; undefined for an unknown poll */
  votes(pollId: string): Promise<VoteHistoryEntry[] | undefined>
}
