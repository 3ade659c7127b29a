// @ts-check
/**
 * The webhooks panel's pure logic: no DOM, no fetch (test/web/webhooks-model.test.ts). The
 * types are the server's own (contract/webhooks.ts), so a renamed field fails typecheck.
 */

/** @typedef {import('../../contract/webhooks.ts').EndpointView} Endpoint */
/** @typedef {import('../../contract/webhooks.ts').Delivery} Delivery */
/** @typedef {import('../../contract/webhooks.ts').WebhookEventType} EventType */

/**
 * The event types an endpoint can subscribe to, with what each means. The same list as
 * contract/webhooks.ts EVENT_TYPES (the unit test holds them together).
 * @type {ReadonlyArray<{ type: EventType, label: string }>}
 */
export const EVENT_CHOICES = [
  { type: 'poll.sent', label: 'a poll was sent' },
  { type: 'poll.vote', label: 'a vote changed' },
  { type: 'poll.vote.rejected', label: 'a vote was rejected' },
  { type: 'session.status', label: 'the WhatsApp connection changed' },
  { type: 'campaign.progress', label: 'a campaign progressed' },
  { type: 'campaign.done', label: 'a campaign ended' },
]

/**
 * How long ago, in words: "just now", "40 s ago", "5 min ago", "3 h ago", then the date.
 * @param {number | null | undefined} ms
 * @param {number} now
 */
export function ago(ms, now) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return 'never'
  const s = Math.round((now - ms) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return new Date(ms).toLocaleString()
}

/**
 * An error text cut to `max` characters for a table cell (the whole one goes in a tooltip).
 * @param {string | null | undefined} text
 * @param {number} [max]
 */
export function shortError(text, max = 140) {
  if (!text) return ''
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** @typedef {'ok' | 'failing' | 'idle'} Health */

/**
 * One endpoint as the panel shows it.
 * @typedef {object} EndpointRow
 * @property {string} id
 * @property {string} url
 * @property {string} events "all events" or the types
 * @property {string} source where it comes from, in words
 * @property {boolean} removable only endpoints added through the API: WEBHOOK_URL ones come back at the next start
 * @property {Health} health
 * @property {string} summary the health in one line
 * @property {string} error the last error, shortened ('' when none or healthy)
 * @property {string} fullError
 * @property {number} backlog
 */

/**
 * Endpoints as rows: WEBHOOK_URL ones first, then the ones added here, each oldest first.
 * @param {Endpoint[]} endpoints
 * @param {number} now
 * @returns {EndpointRow[]}
 */
export function endpointRows(endpoints, now) {
  return [...endpoints]
    .sort((a, b) => (a.source === b.source ? 0 : a.source === 'env' ? -1 : 1) || a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    .map((ep) => {
      const hl = ep.health
      const health = healthOf(ep)
      const parts = []
      if (health === 'failing') {
        parts.push(`failing: ${hl.consecutiveFailures} ${hl.consecutiveFailures === 1 ? 'failure' : 'failures'} in a row, last ${ago(hl.lastFailureAt, now)}`)
      } else if (health === 'ok') {
        parts.push(`healthy: last delivery ${ago(hl.lastSuccessAt, now)}`)
      } else {
        parts.push('no deliveries yet')
      }
      if (health === 'ok' && hl.lastFailureAt) parts.push(`last failure ${ago(hl.lastFailureAt, now)}`)
      parts.push(hl.backlog ? `${hl.backlog} waiting` : 'nothing waiting')
      return {
        id: ep.id,
        url: ep.url,
        events: ep.events === null ? 'all events' : ep.events.join(', '),
        source: ep.source === 'env' ? 'from WEBHOOK_URL' : 'added here',
        removable: ep.source === 'api',
        health,
        summary: parts.join(' · '),
        error: health === 'failing' ? shortError(hl.lastError) : '',
        fullError: hl.lastError ?? '',
        backlog: hl.backlog,
      }
    })
}

/**
 * @param {Endpoint} ep
 * @returns {Health}
 */
export function healthOf(ep) {
  const hl = ep.health
  if (hl.consecutiveFailures > 0) return 'failing'
  return hl.lastSuccessAt ? 'ok' : 'idle'
}

/**
 * One failed delivery as the panel shows it.
 * @typedef {{ id: string, eventId: string, type: string, endpoint: string, attempts: string, error: string, fullError: string, when: string }} FailedRow
 */

/**
 * Failed deliveries, newest first, with their endpoint's URL (or its id, if it is gone).
 * @param {Delivery[]} deliveries
 * @param {Pick<Endpoint, 'id' | 'url'>[]} endpoints
 * @param {number} now
 * @returns {FailedRow[]}
 */
export function failedRows(deliveries, endpoints, now) {
  const urls = new Map(endpoints.map((e) => [e.id, e.url]))
  return deliveries
    .filter((d) => d.status === 'failed')
    .sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id))
    .map((d) => {
      const error = d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : 'unknown error')
      return {
        id: d.id,
        eventId: d.eventId,
        type: d.type,
        endpoint: urls.get(d.endpointId) ?? d.endpointId,
        attempts: `${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}`,
        error: shortError(error),
        fullError: error,
        when: ago(d.createdAt, now),
      }
    })
}

/**
 * The add form as POST /webhooks wants it, or the problem in words. No events checked = all.
 * @param {{ url: string, events: string[] }} form
 * @returns {{ ok: true, body: { url: string, events?: EventType[] } } | { ok: false, message: string }}
 */
export function endpointRequest(form) {
  const url = form.url.trim()
  if (!url) return { ok: false, message: 'Give the URL the events are sent to.' }
  let parsed
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, message: 'That is not a URL (e.g. https://example.org/hooks/pollwire).' }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, message: 'Only http: and https: URLs can receive webhooks.' }
  if (parsed.username || parsed.password) return { ok: false, message: 'Leave the user name and password out of the URL.' }
  const known = new Set(EVENT_CHOICES.map((c) => c.type))
  const events = /** @type {EventType[]} */ (form.events.filter((e) => known.has(/** @type {EventType} */ (e))))
  return { ok: true, body: events.length ? { url, events } : { url } }
}
