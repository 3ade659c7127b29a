// @ts-check
/**
 * The dashboard's pure logic: no DOM, no fetch, so node tests can run it
 * (test/web/model.test.ts). The types are the server's own, so a renamed field fails typecheck.
 */

/** @typedef {import('../../contract/polls.ts').PollView} Poll */
/** @typedef {import('../../contract/polls.ts').VoteHistoryEntry} Vote */
/** @typedef {{ id: string, name: string, isGroup: boolean }} Chat */
/** @typedef {{ pollMsgId: string, results: Poll['results'], question: string, options: string[], voters: Poll['voters'], selectableCount: number }} PollUpdate */

/** @typedef {{ question: number, options: number, optionLength: number }} Limits */

/**
 * The server's input limits, read from its OpenAPI document (GET /openapi.json) rather than
 * retyped here, so the form checks what the server checks before a round trip.
 * @param {any} doc the OpenAPI document
 * @returns {Limits}
 */
export function limitsFrom(doc) {
  const p = doc?.components?.schemas?.SendPollRequest?.properties
  const limits = { question: p?.question?.maxLength, options: p?.options?.maxItems, optionLength: p?.options?.items?.maxLength }
  if (!Object.values(limits).every((n) => Number.isInteger(n) && n > 0)) throw new Error('the server did not describe its poll limits')
  return limits
}

/**
 * Folds a `poll_update_to_gui` payload into the poll we have. The payload lacks optionHashes,
 * chatId and timestamp; an unknown poll comes back undefined so the caller fetches it whole.
 * @param {Poll | undefined} poll
 * @param {PollUpdate} update
 * @returns {Poll | undefined}
 */
export function applyUpdate(poll, update) {
  if (!poll) return undefined
  return {
    ...poll,
    question: update.question,
    options: update.options,
    results: update.results,
    voters: update.voters,
    selectableCount: update.selectableCount,
  }
}

/**
 * One row per option in the poll's order; `share` is of the voters (a multi-answer poll's
 * shares add up to more than 1), which is what "how many people want this" means.
 * @param {Poll} poll
 * @returns {{ option: string, votes: number, share: number }[]}
 */
export function optionRows(poll) {
  return shareRows(poll.options, poll.results, Object.keys(poll.voters).length)
}

/**
 * Options in order with their votes and their share of `voters` (a poll's, or a campaign's
 * people counted once across its chats).
 * @param {string[]} options
 * @param {Record<string, number>} results
 * @param {number} voters
 * @returns {{ option: string, votes: number, share: number }[]}
 */
export function shareRows(options, results, voters) {
  return options.map((option) => {
    const votes = results[option] ?? 0
    return { option, votes, share: voters ? votes / voters : 0 }
  })
}

/**
 * Each voter with their current choices as texts, in the poll's option order.
 * @param {Poll} poll
 * @returns {{ voter: string, choices: string[] }[]}
 */
export function voterRows(poll) {
  const order = new Map(poll.options.map((o, i) => [o, i]))
  return Object.entries(poll.voters)
    .map(([voter, hashes]) => ({
      voter,
      choices: hashes
        .map((h) => poll.optionHashes[h] ?? `unknown option ${h.slice(0, 8)}`)
        .sort((a, b) => (order.get(a) ?? 99) - (order.get(b) ?? 99)),
    }))
    .sort((a, b) => a.voter.localeCompare(b.voter))
}

/**
 * Newest first.
 * @param {Record<string, Poll>} polls
 * @returns {[string, Poll][]}
 */
export function sortPolls(polls) {
  return Object.entries(polls).sort((a, b) => b[1].timestamp - a[1].timestamp || a[0].localeCompare(b[0]))
}

/**
 * A JID as a person reads it: phone numbers with a plus, devices and domains dropped.
 * @param {string} jid
 */
export function displayJid(jid) {
  const m = /^(\d+)(?::\d+)?@s\.whatsapp\.net$/.exec(jid)
  if (m) return `+${m[1]}`
  const lid = /^(\d+)(?::\d+)?@lid$/.exec(jid)
  if (lid) return `${lid[1]} (LID)`
  return jid
}

/**
 * As the desktop GUI shows chats: `name (Group|Contact)`.
 * @param {Chat} chat
 */
export function chatLabel(chat) {
  return `${chat.name || displayJid(chat.id)} (${chat.isGroup ? 'Group' : 'Contact'})`
}

/**
 * @param {Chat[]} chats
 * @param {string} filter
 * @returns {Chat[]}
 */
export function filterChats(chats, filter) {
  const f = filter.trim().toLowerCase()
  if (!f) return chats
  return chats.filter((c) => c.name.toLowerCase().includes(f) || c.id.toLowerCase().includes(f))
}

/**
 * The poll form's fields as the server wants them, or the first problem in words.
 * @param {{ chatId: string, question: string, options: string[], multi: boolean }} form
 * @param {Limits} limits
 * @returns {{ ok: true, body: { chatId: string, question: string, options: string[], allowMultipleAnswers: boolean } } | { ok: false, message: string, field: 'chat' | 'question' | 'options' }}
 */
export function pollRequest(form, limits) {
  if (!form.chatId) return { ok: false, field: 'chat', message: 'Choose a chat to send the poll to.' }
  const question = form.question.trim()
  if (!question) return { ok: false, field: 'question', message: 'Write a question.' }
  if (question.length > limits.question) return { ok: false, field: 'question', message: `The question is longer than ${limits.question} characters.` }
  const options = form.options.map((o) => o.trim()).filter(Boolean)
  if (!options.length) return { ok: false, field: 'options', message: 'Give at least one option.' }
  if (options.length > limits.options) return { ok: false, field: 'options', message: `A poll has at most ${limits.options} options.` }
  const long = options.find((o) => o.length > limits.optionLength)
  if (long) return { ok: false, field: 'options', message: `Options are at most ${limits.optionLength} characters ("${long.slice(0, 20)}…" is longer).` }
  const twice = options.find((o, i) => options.indexOf(o) !== i)
  if (twice) return { ok: false, field: 'options', message: `"${twice}" appears twice; options must differ.` }
  return { ok: true, body: { chatId: form.chatId, question, options, allowMultipleAnswers: form.multi } }
}

/**
 * A failed answer's body in words: `message`, plus `error` when the server gave details.
 * @param {unknown} body
 * @param {number} status
 */
export function failureText(body, status) {
  const b = /** @type {{ message?: unknown, error?: unknown } | null} */ (body && typeof body === 'object' ? body : null)
  const message = typeof b?.message === 'string' && b.message ? b.message : `The server answered ${status}.`
  return typeof b?.error === 'string' && b.error ? `${message} (${b.error})` : message
}

/** @type {Record<string, string>} */
const STATUS_TEXT = {
  ready: 'Connected to WhatsApp',
  qr_pending: 'Not linked: scan the QR code or use a pairing code',
  disconnected: 'Connecting to WhatsApp…',
  logged_out: 'Logged out: waiting for a new QR code…',
  offline: 'Server unreachable, retrying…',
}

/** @param {string} status */
export function statusText(status) {
  return STATUS_TEXT[status] ?? status
}

// --- several accounts (API.md, "Several accounts")

/** @typedef {{ id: string, status: string, user: { id: string, name: string } | null }} AccountSummary */

/**
 * Where an account's copy of an API path is: the unprefixed path for `default` (the GUI's),
 * `/accounts/<id>` + path for the others.
 * @param {string} account
 * @param {string} path
 */
export function accountPath(account, path) {
  return account === 'default' ? path : `/accounts/${encodeURIComponent(account)}${path}`
}

/**
 * The Socket.IO namespace of an account's events: the default one for `default`.
 * @param {string} account
 */
export function accountNamespace(account) {
  return account === 'default' ? '/' : `/accounts/${encodeURIComponent(account)}`
}

/**
 * The account id rule, read from the server's API description (POST /accounts) rather than retyped.
 * @param {any} doc the OpenAPI document
 * @returns {RegExp}
 */
export function accountIdRule(doc) {
  const pattern = doc?.paths?.['/accounts']?.post?.requestBody?.content?.['application/json']?.schema?.properties?.id?.pattern
  if (typeof pattern !== 'string') throw new Error('the server did not describe its account ids')
  return new RegExp(pattern)
}

/**
 * What is wrong with an id typed for a new account, in words, or null.
 * @param {string} id
 * @param {RegExp} rule
 * @param {string[]} taken
 */
export function accountIdProblem(id, rule, taken) {
  if (!id) return 'Give the account a name.'
  if (!rule.test(id)) return 'Use 1 to 32 characters: lower-case letters, digits, _ and -.'
  if (taken.includes(id)) return `There is an account ${id} already.`
  return null
}

/**
 * The account a page address selects (`?account=shop`), `default` when none or not an id.
 * @param {string} search location.search
 * @param {RegExp} rule
 */
export function accountFromSearch(search, rule) {
  const id = new URLSearchParams(search).get('account')
  return id && rule.test(id) ? id : 'default'
}

/** @type {Record<string, string>} */
const ACCOUNT_STATUS = { ready: 'linked', qr_pending: 'waiting for a scan', disconnected: 'connecting', logged_out: 'logged out', unknown: 'state not known yet' }

/**
 * An account's state in words: `linked as Shop (+15550000002)`, `waiting for a scan`, ….
 * @param {AccountSummary} a
 */
export function accountStateText(a) {
  if (a.status === 'ready' && a.user) return `linked as ${a.user.name ? `${a.user.name} (${displayJid(a.user.id)})` : displayJid(a.user.id)}`
  return ACCOUNT_STATUS[a.status] ?? a.status
}

/**
 * An account as the switcher names it: `shop — linked as Shop (+15550000002)`.
 * @param {AccountSummary} a
 */
export function accountLabel(a) {
  return `${a.id} — ${accountStateText(a)}`
}
