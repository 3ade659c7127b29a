import type { PollView } from '../../contract/polls.ts'
import type { WaUser } from '../../contract/account.ts'
import { newId } from './ids.ts'
import { packVote, pollKey } from '../../store/outbox-port.ts'
import type { OutboxEvent, PollTexts, VoteEvent, VoteRecord } from '../../store/outbox-port.ts'
import { eventBody, pollVoteFields, type PollVoteData, type WebhookEventType } from '../../contract/webhooks.ts'

/*
 * Pure builders of the events of API.md ("Webhooks"). The id is made here, once, so every
 * retry carries the same webhook-id; the body is frozen here too, so what is signed and sent
 * on the tenth attempt is byte for byte what was committed with the vote.
 */

/** The four states the contract shows ('connecting' is shown as 'disconnected'). */
export type PublicSessionStatus = 'ready' | 'qr_pending' | 'disconnected' | 'logged_out'

export { pollKey }
export const SESSION_KEY = 'session'
export const campaignKey = (campaignId: string) => `campaign:${campaignId}`

/** An event of any type: `{ type, timestamp, data }` with data taken as given. */
export function buildEvent(type: WebhookEventType, account: string, orderKey: string, data: object, now: number = Date.now()): OutboxEvent {
  return { id: newId('msg_', now), account, type, orderKey, body: eventBody(type, now, data), createdAt: now }
}

export interface PollSentData { account: string; pollMsgId: string; poll: PollView }

export const pollSent = ({ account, pollMsgId, poll }: PollSentData, now?: number) =>
  buildEvent('poll.sent', account, pollKey(pollMsgId), { account, pollMsgId, poll }, now)

export type { PollVoteData }

/** A poll.vote event with its body built now. The vote path writes pollVoteRecord's instead. */
export const pollVote = (data: PollVoteData, now?: number) =>
  buildEvent('poll.vote', data.account, pollKey(data.pollMsgId), pollVoteFields(data), now)

/** A vote change as the engine has it: option indices and counts, and the poll's texts. */
export interface PollVoteChange extends VoteRecord {
  account: string
  poll: PollTexts
}

/**
 * The poll.vote event the vote path commits: its id and a compact record; the body (what
 * pollVote would build from the same change, byte for byte) is rendered by the outbox later,
 * off the vote path (store/outbox-port.ts renderVote).
 */
export function pollVoteRecord(change: PollVoteChange, now: number = Date.now()): VoteEvent {
  return {
    id: newId('msg_', now), account: change.account, type: 'poll.vote', orderKey: pollKey(change.pollMsgId),
    vote: packVote(change), poll: change.poll, createdAt: now,
  }
}

export interface PollVoteRejectedData { account: string; pollMsgId: string; voter: string; reason: string }

export const pollVoteRejected = ({ account, pollMsgId, voter, reason }: PollVoteRejectedData, now?: number) =>
  buildEvent('poll.vote.rejected', account, pollKey(pollMsgId), { account, pollMsgId, voter, reason }, now)

export interface SessionStatusData { account: string; status: PublicSessionStatus; user: WaUser | null }

export const sessionStatus = ({ account, status, user }: SessionStatusData, now?: number) =>
  buildEvent('session.status', account, SESSION_KEY, { account, status, user }, now)

/** The figures of Socket.IO's `campaign_update`, with the account (API.md leaves the data open). */
export interface CampaignData {
  account: string
  campaignId: string
  status: 'running' | 'paused' | 'done' | 'cancelled'
  sent: number
  failed: number
  total: number
  results: Record<string, number>
}

export const campaignProgress = (data: CampaignData, now?: number) =>
  buildEvent('campaign.progress', data.account, campaignKey(data.campaignId), campaignFields(data), now)

export const campaignDone = (data: CampaignData, now?: number) =>
  buildEvent('campaign.done', data.account, campaignKey(data.campaignId), campaignFields(data), now)

const campaignFields = ({ account, campaignId, status, sent, failed, total, results }: CampaignData) =>
  ({ account, campaignId, status, sent, failed, total, results })
