import pino from 'pino'
import { AccountError } from '../contract/account.ts'
import type { Chat, SendPollInput, Session } from '../contract/account.ts'
import type { CampaignActionResult, Campaigns, CampaignView, CampaignVoterRow, NewCampaign } from '../contract/campaigns.ts'
import type { Context } from '../contract/http.ts'
import type { ConnectionStatus, WaUser } from '../contract/account.ts'
import type { PollReader, PollView, VoteHistoryEntry } from '../contract/polls.ts'

export const silent = pino({ level: 'silent' })

/** A Session that records what handlers ask of it. */
export function fakeSession(init: Partial<{ status: ConnectionStatus; user: WaUser; qr: string; chats: Chat[]; fail: Error; code: string }> = {}) {
  const calls: { sendPoll: SendPollInput[]; logout: number; pairing: string[] } = { sendPoll: [], logout: 0, pairing: [] }
  const session: Session & { calls: typeof calls } = {
    calls,
    status: () => init.status ?? 'ready',
    user: () => init.user ?? null,
    qr: () => init.qr ?? null,
    listChats: () => init.chats ?? [],
    // The contract's failures, as the real account raises them.
    async sendPoll(input) {
      if ((init.status ?? 'ready') !== 'ready') throw new AccountError('not_connected', 'WhatsApp is not connected; link the account and try again')
      calls.sendPoll.push(input)
      if (init.fail) throw new AccountError('rejected', 'WhatsApp did not accept the poll', init.fail.message)
      return { pollMsgId: `POLL${calls.sendPoll.length}` }
    },
    async logout() { calls.logout++ },
    async requestPairingCode(phone) {
      const status = init.status ?? 'ready'
      if (status === 'ready') throw new AccountError('already_linked', 'already linked; log out first')
      if (status !== 'qr_pending') throw new AccountError('not_connected', 'not connected to WhatsApp yet; try again in a moment')
      calls.pairing.push(phone)
      if (init.fail) throw new AccountError('rejected', 'WhatsApp did not issue a pairing code', init.fail.message)
      return init.code ?? 'ABCD-EFGH'
    },
  }
  return session
}

export function memoryPolls(polls: Record<string, PollView> = {}, votes: Record<string, VoteHistoryEntry[]> = {}): PollReader {
  // The record may be changed in place by a test: a new revision on every read, so never a stale body.
  let revision = 0
  return { all: () => polls, allJson: () => [JSON.stringify(polls)], revision: () => ++revision, get: (id) => polls[id],
    votes: async (id) => (polls[id] ? votes[id] ?? [] : undefined) }
}

export function fakeCtx(over: Partial<Context> = {}): Context {
  return {
    session: fakeSession(),
    polls: memoryPolls(),
    store: { ok: () => true },
    log: silent,
    params: {},
    ...over,
  }
}

export const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(`http://localhost${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

export const get = (path: string) => new Request(`http://localhost${path}`)

export const samplePoll = (over: Partial<PollView> = {}): PollView => ({
  question: 'Colour?',
  options: ['Red', 'Blue'],
  optionHashes: { aa: 'Red', bb: 'Blue' },
  results: { Red: 1, Blue: 0 },
  voters: { '15551110001@s.whatsapp.net': ['aa'] },
  chatId: '120363000000000001@g.us',
  timestamp: 1732470000000,
  selectableCount: 1,
  ...over,
})

import type { Handler } from '../contract/http.ts'
import { createRouter } from '../runtime/router.ts'

/** Runs one handler behind the real router, so error mapping is what production does. */
export async function invoke(handler: Handler, req: Request, ctx: Context = fakeCtx(), path?: string) {
  const url = new URL(req.url)
  const method = path ? 'GET' : req.method === 'HEAD' ? 'GET' : req.method
  return invokeRoute({ method, path: path ?? url.pathname }, handler, req, ctx)
}

/** Runs one handler routed at `route` (a `:param` path of any method) behind the real router. */
export async function invokeRoute(route: { method: string; path: string }, handler: Handler, req: Request, ctx: Context = fakeCtx()) {
  const dispatch = createRouter([{ ...route, handler }], ctx)
  const res = await dispatch(req)
  const type = res.headers.get('content-type') ?? ''
  const body = type.includes('json') ? await res.json() : await res.text()
  return { status: res.status, body: body as any, headers: res.headers }
}

/** A campaign as GET /campaigns/:id shows it: two groups sent, one failed, one queued; two people counted. */
export const sampleCampaign = (over: Partial<CampaignView> = {}): CampaignView => ({
  id: 'cmp_1',
  question: 'Lunch?',
  options: ['Pizza', 'Sushi'],
  selectableCount: 1,
  delayMs: { min: 2000, max: 4000 },
  status: 'running',
  sent: 2,
  failed: 1,
  total: 4,
  createdAt: 1732470000000,
  voters: 2,
  results: { Pizza: 1, Sushi: 1 },
  chats: [
    { chatId: '120363000000000001@g.us', name: 'Team', state: 'sent', pollMsgId: 'P1' },
    { chatId: '120363000000000002@g.us', name: 'Family', state: 'sent', pollMsgId: 'P2' },
    { chatId: '15551110001@s.whatsapp.net', name: 'Alice', state: 'failed', pollMsgId: 'P3', error: 'WhatsApp did not accept the poll: not-authorized' },
    { chatId: '15551110002@s.whatsapp.net', name: 'Bob', state: 'queued' },
  ],
  perChat: { '120363000000000001@g.us': { Pizza: 1, Sushi: 0 }, '120363000000000002@g.us': { Pizza: 0, Sushi: 1 } },
  ...over,
})

/** An account's Campaigns over fixed views, recording what handlers ask of it. */
export function fakeCampaigns(views: CampaignView[] = [sampleCampaign()], voters: Record<string, CampaignVoterRow[]> = {}) {
  const calls: { create: NewCampaign[]; actions: string[] } = { create: [], actions: [] }
  const byId = new Map(views.map((v) => [v.id, v]))
  const act = (name: string, status: CampaignView['status']) => async (id: string): Promise<CampaignActionResult> => {
    calls.actions.push(`${name} ${id}`)
    const v = byId.get(id)
    if (!v) return 'unknown'
    if (v.status === 'done' || v.status === 'cancelled') return 'finished'
    if (name !== 'resume' || v.status === 'paused') v.status = status
    return 'ok'
  }
  const campaigns: Campaigns & { calls: typeof calls } = {
    calls,
    async create(input) {
      calls.create.push(input)
      return { campaignId: `cmp_new${calls.create.length}`, total: input.chatIds.length }
    },
    list: () => [...byId.values()].map(({ chats: _c, perChat: _p, ...summary }) => summary),
    get: (id) => byId.get(id),
    voters: (id) => (byId.has(id) ? voters[id] ?? [] : undefined),
    pause: act('pause', 'paused'),
    resume: act('resume', 'running'),
    cancel: act('cancel', 'cancelled'),
  }
  return campaigns
}
