import type { AlongsideWrites, RawVote } from '../../store/ports.ts'
import type { NewPoll, PollCreation } from './types.ts'

/** What the WhatsApp side needs from the vote engine; the engine implements it. */
export interface VoteSink {
  /**
   * Write before send: stores the poll (committed), hands its id and secret to `deliver`, then
   * marks it sent — or failed, keeping its secret. AccountError when it cannot store or send.
   */
  sendPoll(input: NewPoll, deliver: (id: string, secret: Uint8Array) => Promise<void>): Promise<{ pollMsgId: string }>
  /** stores a poll this account created on another device; resolves once committed, rejects when it could not be */
  recordPollCreation(poll: PollCreation): Promise<unknown>
  /**
   * Resolves once the vote is journaled durably. `alongside`: writes that commit in the same
   * transaction (the Signal-key update of the message that carried the vote).
   */
  ingestVote(raw: RawVote, alongside?: AlongsideWrites): Promise<void>
  /**
   * Commits the Signal-key writes of a message that carried no vote (a sender-key distribution,
   * a text) with the next group commit of votes, in order with them: one fsync for the lot
   * instead of one of its own. Resolves once they are durable.
   */
  commitKeys(alongside: AlongsideWrites): Promise<void>
  /** retries pending votes: all, or those of a LID↔PN pair just learned */
  retryPending(scope?: { jids: string[] }): Promise<void>
  /** after each login: retries what a changed own identity can decrypt */
  onLogin(): Promise<void>
  /** a poll's creation data, to answer Baileys' retry requests */
  pollCreation(id: string): PollCreation | undefined
}
