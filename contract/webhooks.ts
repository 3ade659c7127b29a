/**
 * Webhooks as every layer sees them (API.md, "Webhooks"): the event types, an endpoint and a
 * delivery as the API shows them, what the /webhooks handlers may ask, and the checks of what a
 * user gives for an endpoint. The outbox itself is a store port (store/outbox-port.ts).
 */

export const EVENT_TYPES = [
  'poll.sent', 'poll.vote', 'poll.vote.rejected', 'session.status', 'campaign.progress', 'campaign.done',
] as const

export type WebhookEventType = (typeof EVENT_TYPES)[number]

/** The data of a `poll.vote` event (API.md): every counted change of a voter's selection. */
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

/** `poll.vote`'s data in API.md's field order, voterName only when known. */
export const pollVoteFields = (data: PollVoteData) => ({
  account: data.account,
  pollMsgId: data.pollMsgId,
  voter: data.voter,
  ...(data.voterName ? { voterName: data.voterName } : {}),
  selected: data.selected,
  previous: data.previous,
  senderTimestampMs: data.senderTimestampMs,
  results: data.results,
  question: data.question,
})

// Events made together share one `at`: its ISO text is made once, not once per event.
let lastAt = NaN
let lastIso = ''

/**
 * The body every delivery of an event carries, `{ type, timestamp, data }`: what is signed, so
 * whoever builds it (the vote path, or a store rendering a poll.vote record) builds it here.
 */
export function eventBody(type: WebhookEventType, at: number, data: object): string {
  if (at !== lastAt) { lastAt = at; lastIso = new Date(at).toISOString() }
  return JSON.stringify({ type, timestamp: lastIso, data })
}

export interface Endpoint {
  id: string
  url: string
  /** null = every event type */
  events: WebhookEventType[] | null
  /** null = every account */
  account: string | null
  /** 'env' endpoints come from WEBHOOK_URL and are reconciled at start; 'api' ones from POST /webhooks */
  source: 'env' | 'api'
  createdAt: number
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface Delivery {
  id: string
  eventId: string
  endpointId: string
  type: WebhookEventType
  status: DeliveryStatus
  /** attempts made so far (settled ones) */
  attempts: number
  /** when it is due next (pending), or was last due */
  nextAt: number
  lastError?: string
  /** HTTP status of the last answer, when there was one */
  lastStatus?: number
  deliveredAt?: number
  createdAt: number
}

export interface EndpointHealth {
  lastSuccessAt: number | null
  lastFailureAt: number | null
  lastError: string | null
  /** failed attempts since the last success */
  consecutiveFailures: number
}

export interface DeliveryQuery {
  status?: DeliveryStatus
  endpointId?: string
  /** newest first, at most this many */
  limit: number
}

export interface EndpointView extends Endpoint {
  health: EndpointHealth & { backlog: number }
}

export interface NewEndpointInput {
  url: string
  events?: WebhookEventType[] | null
  account?: string | null
}

/** What the /webhooks handlers ask of the webhook side: nothing more, so a fake is short. */
export interface WebhooksAdmin {
  /** endpoints with their health, never their secrets */
  list(): Promise<EndpointView[]>
  /** the secret is returned here and never again */
  add(input: NewEndpointInput): Promise<{ endpoint: Endpoint; secret: string }>
  /** 'env' when the endpoint comes from WEBHOOK_URL (it would come back at the next start) */
  remove(id: string): Promise<'removed' | 'unknown' | 'env'>
  deliveries(query: DeliveryQuery): Promise<Delivery[]>
  /** the delivery, pending and due now; undefined when unknown */
  retry(id: string): Promise<Delivery | undefined>
}

/*
 * Checks of what a user gives for an endpoint, as messages naming the field (the handlers turn
 * them into 400s, the env reconcile into a start error). Pure, so handlers may import it.
 * Loopback and private addresses are allowed on purpose: a receiver on the same host or
 * network is the common self-hosted case (API.md).
 */

export const MAX_URL_LENGTH = 2048

/** null when `url` can be an endpoint, else why not. */
export function urlProblem(url: unknown, field = 'url'): string | null {
  if (typeof url !== 'string' || !url.trim()) return `${field} must be a non-empty string`
  if (url.length > MAX_URL_LENGTH) return `${field} must be at most ${MAX_URL_LENGTH} characters`
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return `${field} is not a valid URL: ${JSON.stringify(url.slice(0, 100))}`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${field} must be an http: or https: URL, not ${parsed.protocol}`
  // fetch refuses them, and credentials in a URL end up in places a secret must not.
  if (parsed.username || parsed.password) return `${field} must not carry a user name or password`
  if (!parsed.hostname) return `${field} has no host`
  return null
}

/** The URL as stored and sent to: trimmed, normalised by the URL parser, without a #fragment. */
export function normaliseUrl(url: string): string {
  const parsed = new URL(url.trim())
  parsed.hash = ''
  return parsed.href
}

export const isEventType = (t: unknown): t is WebhookEventType => (EVENT_TYPES as readonly unknown[]).includes(t)

/** null when `events` is absent or null (all events) or a non-empty array of known types, else why not. */
export function eventsProblem(events: unknown, field = 'events'): string | null {
  if (events === undefined || events === null) return null
  if (!Array.isArray(events)) return `${field} must be an array of event types (${EVENT_TYPES.join(', ')})`
  if (!events.length) return `${field} must list at least one event type, or be left out for all`
  for (const t of events) {
    if (!isEventType(t)) return `${field} has an unknown event type ${JSON.stringify(t)}; known: ${EVENT_TYPES.join(', ')}`
  }
  return null
}

