import type { SendPollInput } from '../runtime/context.ts'
import type { RawVote } from './poll-types.ts'
import type { PollCreation } from './wa-intake.ts'

/** What the connection needs from the vote engine; the engine implements it. */
export interface VoteSink {
  /** stores the poll with a fresh id and secret, committed before it returns (write before send) */
  preparePoll(input: SendPollInput): { id: string; secret: Uint8Array }
  markSent(id: string): void
  markFailed(id: string, reason: string): void
  /** stores a poll this account created on another device; resolves once committed, rejects when it could not be */
  recordPollCreation(poll: PollCreation): Promise<unknown>
  /** resolves once the vote is journaled durably */
  ingestVote(raw: RawVote): Promise<void>
  /** retries pending votes: all, or those of a LID↔PN pair just learned */
  retryPending(scope?: { jids: string[] }): Promise<void>
  /** after each login: retries what a changed own identity can decrypt */
  onLogin(): Promise<void>
  /** a poll's creation data, to answer Baileys' retry requests */
  pollCreation(id: string): PollCreation | undefined
}
