import type { RawVote } from '../../store/ports.ts'

/**
 * What the vote engine reports, one call per vote and step. Reasons are the engine's own
 * small enums (PendingReason, RejectReason); anything beyond MAX_REASONS distinct values is
 * counted as `other`, so a bug that puts free text in a reason cannot explode the series.
 */
export interface VoteMetrics {
  /** a vote was journaled durably (each sighting: live, offline/history, Signal layer) */
  voteReceived(source: RawVote['source']): void
  /** a vote decrypted and matched its poll's options */
  voteDecrypted(): void
  /** a vote that can never count (bad_iv, truncated, bad_plaintext, unknown_option, ...) */
  voteFailed(reason: string): void
  /** a vote parked until its poll or key shows up (unknown_poll, no_key) */
  votePending(reason: string): void
}

export const noVoteMetrics: VoteMetrics = {
  voteReceived() {}, voteDecrypted() {}, voteFailed() {}, votePending() {},
}
