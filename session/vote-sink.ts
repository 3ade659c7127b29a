import type { SendPollInput } from '../runtime/context.ts'
import type { RawVote } from './poll-types.ts'
import type { PollCreation } from './wa-intake.ts'

/** What the connection needs from the vote engine; the engine implements it. */
export interface VoteSink {
  /** stores the poll with a fresh id and secret, committed before it returns (write before send) */
  preparePoll(input: SendPollInput): { id: string; secret: Uint8Array }
  markSent(id: string): void
  markFailed(id: string, reason: string): void
  recordPollCreation(poll: PollCreation): void
  /** resolves once the vote is journaled durably */
  ingestVote(raw: RawVote): Promise<void>
  retryPending(): Promise<void>
  /** a poll's creation data, to answer Baileys' retry requests */
  pollCreation(id: string): PollCreation | undefined
}
