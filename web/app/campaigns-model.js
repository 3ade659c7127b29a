// @ts-check
/**
 * The campaigns panel's pure logic: no DOM, no fetch (test/web/campaigns-model.test.ts). The
 * types are the server's own (contract/campaigns.ts), so a renamed field fails typecheck.
 */
import { chatLabel, displayJid, filterChats, shareRows } from './model.js'

/** @typedef {import('../../contract/campaigns.ts').CampaignSummary} CampaignSummary */
/** @typedef {import('../../contract/campaigns.ts').CampaignView} CampaignView */
/** @typedef {import('../../contract/campaigns.ts').CampaignUpdate} CampaignUpdate */
/** @typedef {import('../../contract/campaigns.ts').CampaignStatus} CampaignStatus */
/** @typedef {import('./model.js').Chat} Chat */

/** @typedef {{ chats: number, delayMaxMs: number, defaultDelayMs: { min: number, max: number } }} CampaignLimits */

/**
 * The server's campaign limits and default pause, read from its OpenAPI document (GET
 * /openapi.json, POST /campaigns's body) rather than retyped here.
 * @param {any} doc the OpenAPI document
 * @returns {CampaignLimits}
 */
export function campaignLimitsFrom(doc) {
  const p = doc?.components?.schemas?.CreateCampaignRequest?.properties
  const chats = p?.chatIds?.maxItems
  const delayMaxMs = p?.delayMs?.properties?.max?.maximum
  const dflt = p?.delayMs?.default
  const whole = (/** @type {unknown} */ n) => Number.isInteger(n) && /** @type {number} */ (n) >= 0
  if (!whole(chats) || !whole(delayMaxMs) || !whole(dflt?.min) || !whole(dflt?.max)) throw new Error('the server did not describe its campaign limits')
  return { chats, delayMaxMs, defaultDelayMs: { min: dflt.min, max: dflt.max } }
}

// --- picking chats

/**
 * The chats the search shows, each with whether it is picked.
 * @param {Chat[]} chats
 * @param {string} filter
 * @param {ReadonlySet<string>} selected
 * @returns {{ id: string, label: string, checked: boolean }[]}
 */
export function pickerRows(chats, filter, selected) {
  return filterChats(chats, filter).map((c) => ({ id: c.id, label: chatLabel(c), checked: selected.has(c.id) }))
}

/**
 * The selection with every chat the search shows added ("Select all shown").
 * @param {ReadonlySet<string>} selected
 * @param {Chat[]} chats
 * @param {string} filter
 */
export function selectShown(selected, chats, filter) {
  return new Set([...selected, ...filterChats(chats, filter).map((c) => c.id)])
}

/**
 * The picked chats that are still in the list, in the list's order (the order they are sent in).
 * @param {Chat[]} chats
 * @param {ReadonlySet<string>} selected
 */
export function selectedChatIds(chats, selected) {
  return chats.filter((c) => selected.has(c.id)).map((c) => c.id)
}

/**
 * The selection in words: `3 chats selected (2 not shown by the search) · 5 of 40 shown`, with
 * a warning past the server's limit.
 * @param {{ selected: number, selectedShown: number, shown: number, total: number, max: number }} n
 */
export function selectionText(n) {
  if (!n.total) return 'No chats yet. WhatsApp sends them shortly after linking; press Refresh chats.'
  const picked = `${n.selected} ${n.selected === 1 ? 'chat' : 'chats'} selected`
  const hidden = n.selected - n.selectedShown
  const parts = [hidden > 0 ? `${picked} (${hidden} not shown by the search)` : picked, `${n.shown} of ${n.total} shown`]
  if (n.selected > n.max) parts.push(`a campaign takes at most ${n.max.toLocaleString('en')} chats`)
  return parts.join(' · ')
}

// --- the form

/**
 * Seconds as typed ("2", "0.5", "1,5") → whole milliseconds, or NaN.
 * @param {string} text
 */
export function secondsToMs(text) {
  const t = text.trim().replace(',', '.')
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(t)) return NaN
  return Math.round(Number(t) * 1000)
}

/**
 * The form as POST /campaigns wants it, or what must be fixed before it can be sent at all.
 * Everything else (texts, bounds, min ≤ max) is the server's to judge: its 400 names the field.
 * @param {{ chatIds: string[], question: string, options: string[], multi: boolean, delayMin: string, delayMax: string }} form
 * @returns {{ ok: true, body: { chatIds: string[], question: string, options: string[], allowMultipleAnswers: boolean, delayMs: { min: number, max: number } } }
 *   | { ok: false, field: 'chats' | 'delayMin' | 'delayMax', message: string }}
 */
export function campaignRequest(form) {
  if (!form.chatIds.length) return { ok: false, field: 'chats', message: 'Select at least one chat.' }
  const min = secondsToMs(form.delayMin)
  if (Number.isNaN(min)) return { ok: false, field: 'delayMin', message: 'The shortest pause must be a number of seconds, e.g. 2 or 0.5.' }
  const max = secondsToMs(form.delayMax)
  if (Number.isNaN(max)) return { ok: false, field: 'delayMax', message: 'The longest pause must be a number of seconds, e.g. 4 or 1.5.' }
  return {
    ok: true,
    body: {
      chatIds: form.chatIds,
      question: form.question,
      // Rows left empty are not options; the server trims and checks the rest.
      options: form.options.filter((o) => o.trim()),
      allowMultipleAnswers: form.multi,
      delayMs: { min, max },
    },
  }
}

/**
 * A pause in milliseconds as the form shows it in seconds: 2000 → "2", 100 → "0.1".
 * @param {number} ms
 */
export function msToSeconds(ms) {
  return String(ms / 1000)
}

// --- the list

/** @type {Record<CampaignStatus, string>} */
const STATUS_TEXT = { running: 'sending', paused: 'paused', done: 'done', cancelled: 'cancelled' }

/** @param {CampaignStatus} status */
export function campaignStatusText(status) {
  return STATUS_TEXT[status] ?? status
}

/**
 * What the buttons may do in this status: pause or cancel while sending, resume or cancel while
 * paused, nothing once ended (the server would answer 409).
 * @param {CampaignStatus} status
 * @returns {('pause' | 'resume' | 'cancel')[]}
 */
export function campaignActions(status) {
  if (status === 'running') return ['pause', 'cancel']
  if (status === 'paused') return ['resume', 'cancel']
  return []
}

/**
 * How far it is: chats handled (sent or failed) of all, as a whole percentage, and in words.
 * @param {Pick<CampaignSummary, 'sent' | 'failed' | 'total'>} c
 */
export function progressOf(c) {
  const done = c.sent + c.failed
  const percent = c.total ? Math.floor((done / c.total) * 100) : 0
  const text = `${done} of ${c.total} ${c.total === 1 ? 'chat' : 'chats'}: ${c.sent} sent${c.failed ? `, ${c.failed} failed` : ''}`
  return { done, total: c.total, percent, text }
}

/**
 * A `campaign_update` folded into what the panel holds (the update lacks the chat list and the
 * per-chat tallies; they come with the next GET /campaigns/:id).
 * @template {CampaignSummary} T
 * @param {T} c
 * @param {CampaignUpdate} u
 * @returns {T}
 */
export function applyCampaignUpdate(c, u) {
  return { ...c, status: u.status, sent: u.sent, failed: u.failed, total: u.total, results: u.results, voters: u.voters }
}

/**
 * An answer of GET /campaigns or /campaigns/:id for a campaign that changed live (an update, an
 * action) after the request went out: the answer may be older than what the panel shows, so
 * the live figures stay and the rest (chats, per-chat tallies) is taken. Progress then
 * never runs backwards; the next fetch, after the last update, brings it all together.
 * @template {CampaignSummary} T
 * @param {T} fetched
 * @param {CampaignSummary | null | undefined} held what the panel shows now
 * @param {boolean} changedSince whether a live change came after the request went out
 * @returns {T}
 */
export function keepLiveFigures(fetched, held, changedSince) {
  if (!held || !changedSince || held.id !== fetched.id) return fetched
  return { ...fetched, status: held.status, sent: held.sent, failed: held.failed, total: held.total, results: held.results, voters: held.voters }
}

/**
 * The combined result as bar rows: each option's people, and its share of everyone counted.
 * @param {Pick<CampaignSummary, 'options' | 'results' | 'voters'>} c
 */
export function campaignResultRows(c) {
  return shareRows(c.options, c.results, c.voters)
}

/** @type {Record<string, string>} */
const CHAT_STATE_TEXT = { queued: 'waiting', sending: 'sending', sent: 'sent', failed: 'failed', cancelled: 'not sent (cancelled)' }

/**
 * One row per chat of the campaign, in sending order: its name, its state, its own tally in
 * option order (null until its poll went out), and why it failed.
 * @param {CampaignView} view
 * @returns {{ chatId: string, name: string, state: string, stateText: string, counts: number[] | null, error: string }[]}
 */
export function perChatRows(view) {
  return view.chats.map((c) => {
    const tally = view.perChat[c.chatId]
    return {
      chatId: c.chatId,
      name: c.name || displayJid(c.chatId),
      state: c.state,
      stateText: CHAT_STATE_TEXT[c.state] ?? c.state,
      counts: tally ? view.options.map((o) => tally[o] ?? 0) : null,
      error: c.error ?? '',
    }
  })
}
