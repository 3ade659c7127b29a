import type { Logger } from 'pino'
import type { ConnectionStatus, SendPollInput } from '../../contract/account.ts'
import type {
  CampaignActionResult, CampaignChatView, Campaigns, CampaignStatus, CampaignSummary, CampaignUpdate, CampaignView,
  CampaignVoterRow, NewCampaign,
} from '../../contract/campaigns.ts'
import type { Emitter } from '../../contract/events.ts'
import type { WebhookEventType } from '../../contract/webhooks.ts'
import type { CampaignChatRecord, CampaignCommit, CampaignRecord, CampaignTable } from '../../store/ports.ts'
import type { VoteEngine } from '../votes/engine.ts'
import { campaignDone, campaignProgress } from '../webhooks/events.ts'
import { newId } from '../webhooks/ids.ts'
import { createPacing } from './pacing.ts'
import { runSender, type SendOutcome } from './sender.ts'
import { createCampaignTally, type CampaignTally } from './tally.ts'

export interface CampaignDeps {
  account: string
  table: CampaignTable
  votes: Pick<VoteEngine, 'newPollId' | 'tally' | 'watchBallots'>
  session: { status(): ConnectionStatus; sendPoll(input: SendPollInput): Promise<{ pollMsgId: string }> }
  emitter: Emitter
  /** what a chat is called, for the view */
  chatName(id: string): string
  log: Logger
  /** webhook endpoints: whether anybody wants an event type of this account */
  webhooks?: { wanted(type: WebhookEventType): boolean }
  /** campaign sends per minute of this account at most (CAMPAIGN_MAX_PER_MIN, default 20) */
  maxPerMinute?: number
  now?: () => number
  random?: () => number
}

/** A campaign in memory: its record and chats as committed, its combined tally, its counters. */
interface Live {
  rec: CampaignRecord
  chats: CampaignChatRecord[]
  tally: CampaignTally
  sent: number
  failed: number
  /** the first chat not finished (queued or sending); chats.length when none is left */
  cursor: number
  /** the view as last built, dropped on every change (a chat, the status, any ballot of its polls) */
  view?: CampaignView
  /** its parts that change less often: the chat list (dropped when a chat changes), each poll's results (when its ballots do) */
  chatViews?: CampaignChatView[]
  perPoll: Map<string, Record<string, number>>
}

const finished = (s: CampaignStatus) => s === 'done' || s === 'cancelled'
const settled = (c: CampaignChatRecord) => c.state === 'sent' || c.state === 'failed' || c.state === 'cancelled'

export interface CampaignService extends Campaigns {
  /** starts sending what is due (after load) */
  start(): void
  /** stops sending; a send under way finishes and is recorded */
  close(): Promise<void>
}

/**
 * An account's campaigns (API.md, "Campaigns"), the only owner of their state. Every change is
 * one commit of the campaign table, with its webhook event, before memory changes and before
 * anything is sent: a chat's poll id is written before its send, so a crash re-sends the same
 * message (delivered once by WhatsApp) instead of a second poll. Reads come from memory; the
 * combined result follows each poll's tally through the vote engine's ballot watch.
 */
export async function createCampaigns(deps: CampaignDeps): Promise<CampaignService> {
  const { table, votes, session, log } = deps
  const now = deps.now ?? Date.now
  const pacing = createPacing({ maxPerMinute: deps.maxPerMinute ?? 20, random: deps.random })
  const campaigns = new Map<string, Live>()
  /** poll id → its campaign (each chat's poll, once its id is written) */
  const byPoll = new Map<string, Live>()

  // --- memory, after a commit

  function seed(k: Live): void {
    k.tally.clear()
    k.perPoll.clear()
    for (const c of k.chats) {
      if (!c.pollMsgId) continue
      for (const [voter, b] of votes.tally(c.pollMsgId)?.current ?? []) k.tally.set(c.pollMsgId, voter, b)
    }
  }

  function advance(k: Live): void {
    while (k.cursor < k.chats.length && settled(k.chats[k.cursor]!)) k.cursor++
  }

  function add(rec: CampaignRecord, chats: CampaignChatRecord[]): Live {
    const k: Live = { rec, chats, tally: createCampaignTally(rec.options.length), sent: 0, failed: 0, cursor: 0, perPoll: new Map() }
    for (const c of chats) {
      if (c.state === 'sent') k.sent++
      else if (c.state === 'failed') k.failed++
      if (c.pollMsgId) byPoll.set(c.pollMsgId, k)
    }
    advance(k)
    campaigns.set(rec.id, k)
    seed(k)
    return k
  }

  for (const { chats, ...rec } of await table.all()) add(rec, chats)
  // Sends of the last minute still count against the cap after a restart.
  const lastMinute = [...campaigns.values()].flatMap((k) => k.chats.filter((c) => c.at !== undefined && c.state !== 'queued' && c.state !== 'cancelled'
    && c.at > now() - 60_000).map((c) => ({ at: c.at!, delay: { min: k.rec.delayMin, max: k.rec.delayMax } })))
  for (const { at, delay } of lastMinute.sort((a, b) => a.at - b.at)) pacing.sent(at, delay)

  const unwatch = votes.watchBallots({
    ballot(pollId, voter, b) {
      const k = byPoll.get(pollId)
      if (!k) return
      k.view = undefined
      k.perPoll.delete(pollId)
      if (k.tally.set(pollId, voter, b)) announce(k)
    },
    reset() { for (const k of campaigns.values()) { seed(k); announce(k) } },
  })

  // --- views

  function results(k: Live, counts: readonly number[]): Record<string, number> {
    const out: Record<string, number> = {}
    k.rec.options.forEach((o, i) => { out[o] = counts[i] ?? 0 })
    return out
  }

  function update(k: Live): CampaignUpdate {
    return { campaignId: k.rec.id, status: k.rec.status, sent: k.sent, failed: k.failed, total: k.chats.length, results: results(k, k.tally.counts), voters: k.tally.voters() }
  }

  function summary(k: Live): CampaignSummary {
    const { id, question, options, selectableCount, delayMin, delayMax, status, createdAt } = k.rec
    return { id, question, options: [...options], selectableCount, delayMs: { min: delayMin, max: delayMax }, status,
      sent: k.sent, failed: k.failed, total: k.chats.length, createdAt, voters: k.tally.voters(), results: results(k, k.tally.counts) }
  }

  function view(k: Live): CampaignView {
    const chats = (k.chatViews ??= k.chats.map((c): CampaignChatView => ({
      chatId: c.chatId, name: deps.chatName(c.chatId), state: c.state, ...(c.pollMsgId ? { pollMsgId: c.pollMsgId } : {}), ...(c.error ? { error: c.error } : {}),
    })))
    const perChat: Record<string, Record<string, number>> = {}
    for (const c of k.chats) {
      const t = c.pollMsgId ? votes.tally(c.pollMsgId) : undefined
      // A poll that may have gone out (sent, or in doubt with votes already) has a tally to show.
      if (!t || !(c.state === 'sent' || (c.state !== 'failed' && t.current.size))) continue
      let r = k.perPoll.get(c.pollMsgId!)
      if (!r) k.perPoll.set(c.pollMsgId!, (r = results(k, t.counts)))
      perChat[c.chatId] = r
    }
    return { ...summary(k), chats, perChat }
  }

  /** A chat of `k` changed: what shows it is built again on the next read. */
  function chatChanged(k: Live): void {
    k.chatViews = undefined
    k.view = undefined
  }

  function announce(k: Live): void {
    k.view = undefined
    try {
      deps.emitter.emit('campaign:update', update(k))
    } catch (err) {
      log.error({ err, campaignId: k.rec.id }, 'campaign listener failed')
    }
  }

  // --- writes: one commit, then memory, then the announcement

  const wanted = (type: WebhookEventType) => !!deps.webhooks?.wanted(type)

  /** The campaign event for `k` as it will stand after this commit. */
  function event(k: Live, status: CampaignStatus, sent: number, failed: number) {
    const data = { account: deps.account, campaignId: k.rec.id, status, sent, failed, total: k.chats.length, results: results(k, k.tally.counts) }
    if (finished(status)) return wanted('campaign.done') ? [campaignDone(data, now())] : []
    return wanted('campaign.progress') ? [campaignProgress(data, now())] : []
  }

  // One write at a time: the sender and the actions never interleave their commits.
  let tail: Promise<unknown> = Promise.resolve()
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }

  async function setStatus(k: Live, status: CampaignStatus, chats: CampaignCommit['chats'] = []): Promise<void> {
    await table.commit({ status: { id: k.rec.id, status }, chats, events: event(k, status, k.sent, k.failed) })
    k.rec.status = status
    for (const c of chats) k.chats[c.idx] = { ...k.chats[c.idx]!, state: c.state, at: c.at }
    if (chats.length) chatChanged(k)
    advance(k)
    announce(k)
    sender.poke()
  }

  // --- what the sender asks

  /** The next chat to send: the oldest running campaign's first unfinished chat. */
  function next(): { k: Live; chat: CampaignChatRecord } | undefined {
    for (const k of campaigns.values()) {
      if (k.rec.status !== 'running') continue
      if (k.cursor < k.chats.length) return { k, chat: k.chats[k.cursor]! }
    }
    return undefined
  }

  /** Writes the chat's poll id before its send; the id to send with. */
  function claim(k: Live, chat: CampaignChatRecord): Promise<string | undefined> {
    return exclusive(async () => {
      if (k.rec.status !== 'running' || k.chats[chat.idx] !== chat || settled(chat)) return undefined
      if (chat.pollMsgId) return chat.pollMsgId
      const pollMsgId = votes.newPollId()
      const at = now()
      await table.commit({ chats: [{ campaignId: k.rec.id, idx: chat.idx, state: 'sending', pollMsgId, at }] })
      const c: CampaignChatRecord = { ...chat, state: 'sending', pollMsgId, at }
      k.chats[chat.idx] = c
      chatChanged(k)
      byPoll.set(pollMsgId, k)
      return pollMsgId
    })
  }

  /** Records a send's outcome; the campaign is done with its last chat. */
  function settle(k: Live, idx: number, outcome: SendOutcome): Promise<void> {
    return exclusive(async () => {
      const chat = k.chats[idx]!
      const at = now()
      const sent = k.sent + (outcome.state === 'sent' ? 1 : 0)
      const failed = k.failed + (outcome.state === 'failed' ? 1 : 0)
      const over = finished(k.rec.status)
      const last = !over && k.chats.every((c, i) => i === idx || settled(c))
      const status: CampaignStatus = last ? 'done' : k.rec.status
      await table.commit({
        chats: [{ campaignId: k.rec.id, idx, state: outcome.state, error: outcome.error, at }],
        ...(last ? { status: { id: k.rec.id, status } } : {}),
        // A send that ends after a cancel is recorded, but `campaign.done` went out with the cancel.
        events: over ? [] : event(k, status, sent, failed),
      })
      k.chats[idx] = { idx, chatId: chat.chatId, state: outcome.state, ...(chat.pollMsgId ? { pollMsgId: chat.pollMsgId } : {}), ...(outcome.error ? { error: outcome.error } : {}), at }
      chatChanged(k)
      k.sent = sent
      k.failed = failed
      k.rec.status = status
      advance(k)
      announce(k)
    })
  }

  const sender = runSender({
    next,
    claim,
    settle,
    sendPoll: (k: Live, chat: CampaignChatRecord, pollMsgId: string) => session.sendPoll({
      chatId: chat.chatId, question: k.rec.question, options: [...k.rec.options], selectableCount: k.rec.selectableCount, pollMsgId,
    }),
    delay: (k: Live) => ({ min: k.rec.delayMin, max: k.rec.delayMax }),
    ready: () => session.status() === 'ready',
    pacing,
    now,
    log,
  })

  // A logout pauses every running campaign until someone resumes it; any status change may let the sender go on.
  const offStatus = deps.emitter.on('status', (s) => {
    if (s === 'logged_out') {
      for (const k of campaigns.values()) {
        if (k.rec.status === 'running') void exclusive(() => setStatus(k, 'paused')).catch((err) => log.warn({ err, campaignId: k.rec.id }, 'campaign not paused'))
      }
    }
    sender.poke()
  })

  function act(id: string, fn: (k: Live) => Promise<CampaignActionResult>): Promise<CampaignActionResult> {
    return exclusive(async () => {
      const k = campaigns.get(id)
      if (!k) return 'unknown'
      if (finished(k.rec.status)) return 'finished'
      return fn(k)
    })
  }

  return {
    async create(input: NewCampaign) {
      const rec: CampaignRecord = {
        id: newId('cmp_', now()), question: input.question, options: [...input.options], selectableCount: input.selectableCount,
        delayMin: input.delayMs.min, delayMax: input.delayMs.max, status: 'running', createdAt: now(),
      }
      await exclusive(() => table.commit({ create: { campaign: rec, chatIds: input.chatIds } }))
      const k = add(rec, input.chatIds.map((chatId, idx) => ({ idx, chatId, state: 'queued' })))
      announce(k)
      sender.poke()
      return { campaignId: rec.id, total: k.chats.length }
    },
    list: () => [...campaigns.values()].map(summary),
    get(id) {
      const k = campaigns.get(id)
      return k && (k.view ??= view(k))
    },
    voters(id) {
      const k = campaigns.get(id)
      if (!k) return undefined
      const chatOf = new Map(k.chats.flatMap((c) => (c.pollMsgId ? [[c.pollMsgId, c.chatId] as const] : [])))
      const rows: CampaignVoterRow[] = []
      for (const [voter, { pollId, ballot }] of k.tally.counted()) {
        rows.push({ voter, selected: ballot.sel.map((i) => k.rec.options[i]!), chatId: chatOf.get(pollId) ?? '', senderTimestampMs: ballot.ts })
      }
      return rows.sort((a, b) => (a.voter < b.voter ? -1 : a.voter > b.voter ? 1 : 0))
    },
    pause: (id) => act(id, async (k) => { if (k.rec.status === 'running') await setStatus(k, 'paused'); return 'ok' }),
    resume: (id) => act(id, async (k) => { if (k.rec.status === 'paused') await setStatus(k, 'running'); return 'ok' }),
    cancel: (id) => act(id, async (k) => {
      const at = now()
      // Chats not sent stop here; the one being sent right now (if any) still records its outcome.
      const stopped = k.chats.filter((c) => !settled(c) && !sender.sending(k, c.idx)).map((c) => ({ campaignId: k.rec.id, idx: c.idx, state: 'cancelled' as const, at }))
      await setStatus(k, 'cancelled', stopped)
      return 'ok'
    }),
    start: () => sender.start(),
    async close() {
      offStatus()
      unwatch()
      await sender.stop()
      await tail
    },
  }
}
