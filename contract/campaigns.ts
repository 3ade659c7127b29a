/**
 * Campaigns (API.md, "Campaigns"): one poll sent to many chats by the server, paced, durable,
 * with one combined result. What handlers may ask of an account's campaigns, and what they show.
 */

export type CampaignStatus = 'running' | 'paused' | 'done' | 'cancelled'

/**
 * A chat's part in a campaign: `queued` until its turn; `sending` once its poll id is written
 * (the poll may have gone out: after a crash it is sent again with the same id, which WhatsApp
 * delivers once); then `sent` or `failed`; `cancelled` when the campaign stopped before its turn.
 */
export type CampaignChatState = 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled'

/** Bounds of a campaign (API.md): chats per campaign, and the pause between two sends. */
export const MAX_CAMPAIGN_CHATS = 1000
export const MAX_CAMPAIGN_DELAY_MS = 3_600_000
export const DEFAULT_CAMPAIGN_DELAY = { min: 2000, max: 4000 } as const

export interface NewCampaign {
  chatIds: string[]
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice */
  selectableCount: number
  delayMs: { min: number; max: number }
}

export interface CampaignChatView {
  chatId: string
  name: string
  state: CampaignChatState
  pollMsgId?: string
  error?: string
}

/** A campaign as GET /campaigns lists it. */
export interface CampaignSummary {
  id: string
  question: string
  options: string[]
  selectableCount: number
  delayMs: { min: number; max: number }
  status: CampaignStatus
  sent: number
  failed: number
  total: number
  /** ms */
  createdAt: number
  /** people counted in `results` */
  voters: number
  results: Record<string, number>
}

/** A campaign as GET /campaigns/:id shows it. */
export interface CampaignView extends CampaignSummary {
  chats: CampaignChatView[]
  /** each chat's own tally, by chat id (chats whose poll has not gone out are absent) */
  perChat: Record<string, Record<string, number>>
}

/** One person's standing in a campaign, for results.csv. */
export interface CampaignVoterRow {
  voter: string
  /** option texts of the selection counted in `results` */
  selected: string[]
  /** the chat whose vote that is */
  chatId: string
  senderTimestampMs: number
}

/** Socket.IO `campaign_update` (API.md). */
export interface CampaignUpdate {
  campaignId: string
  status: CampaignStatus
  sent: number
  failed: number
  total: number
  results: Record<string, number>
  /** people counted in `results` */
  voters: number
}

/** Why a pause, resume or cancel changed nothing. */
export type CampaignActionResult = 'ok' | 'unknown' | 'finished'

/** An account's campaigns, as the handlers use them. */
export interface Campaigns {
  /** validated input; committed (campaign and chat list) before it resolves, then sent in the background */
  create(input: NewCampaign): Promise<{ campaignId: string; total: number }>
  list(): CampaignSummary[]
  /** the campaign as it stands; shared until it changes: read it, never mutate it */
  get(id: string): CampaignView | undefined
  /** every person counted in the combined result, for results.csv */
  voters(id: string): CampaignVoterRow[] | undefined
  pause(id: string): Promise<CampaignActionResult>
  resume(id: string): Promise<CampaignActionResult>
  cancel(id: string): Promise<CampaignActionResult>
}
