import type { PollView } from '../../contract/polls.ts'
import type { WaUser } from '../../contract/account.ts'
import { newId } from './ids.ts'
import type { OutboxEvent } from '../../store/outbox-port.ts'
import type { WebhookEventType } from '../../contract/webhooks.ts'

/*
 * Pure builders of the events of API.md ("Webhooks"). The id is made here, once, so every
 * retry carries the same webhook-id; the body is frozen here too, so what is signed and sent
 * on the tenth attempt is byte for byte what was committed with the vote.
 */

/** The four states the contract shows ('connecting' is shown as 'disconnected'). */
export type PublicSessionStatus = 'ready' | 'qr_pending' | 'disconnected' | 'logged_out'

export const pollKey = (pollMsgId: string) => `poll:${pollMsgId}`
export const SESSION_KEY = 'session'
export const campaignKey = (campaignId: string) => `campaign:${campaignId}`

// A vote batch's events share one `now`: its ISO text is made once, not once per event.
let lastNow = NaN
let lastIso = ''
function isoOf(now: number): string {
  if (now !== lastNow) { lastNow = now; lastIso = new Date(now).toISOString() }
  return lastIso
}

/** An event of any type: `{ type, timestamp, data }` with data taken as given. */
export function buildEvent(type: WebhookEventType, account: string, orderKey: string, data: object, now: number = Date.now()): OutboxEvent {
  const body = JSON.stringify({ type, timestamp: isoOf(now), data })
  return { id: newId('msg_', now), account, type, orderKey, body, createdAt: now }
}

export interface PollSentData { account: string; pollMsgId: string; poll: PollView }

export const pollSent = ({ account, pollMsgId, poll }: PollSentData, now?: number) =>
  buildEvent('poll.sent', account, pollKey(pollMsgId), { account, pollMsgId, poll }, now)

export interface PollVoteData {
  account: string
  pollMsgId: string
  voter: string
  voterName?: string
  /** option texts of the new selection; [] for a retraction */
  selected: string[]
  /** option texts of the voter's previous selection, null for a first vote */
  previous: string[] | null
  senderTimestampMs: number
  results: Record<string, number>
  question: string
}

export const pollVote = (data: PollVoteData, now?: number) =>
  buildEvent('poll.vote', data.account, pollKey(data.pollMsgId), {
    account: data.account,
    pollMsgId: data.pollMsgId,
    voter: data.voter,
    ...(data.voterName ? { voterName: data.voterName } : {}),
    selected: data.selected,
    previous: data.previous,
    senderTimestampMs: data.senderTimestampMs,
    results: data.results,
    question: data.question,
  }, now)

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
