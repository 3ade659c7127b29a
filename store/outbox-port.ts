import type { Delivery, DeliveryQuery, DeliveryStatus, Endpoint, EndpointHealth, WebhookEventType } from '../contract/webhooks.ts'
import { eventBody, pollVoteFields } from '../contract/webhooks.ts'

export type { Delivery, DeliveryQuery, DeliveryStatus, Endpoint, EndpointHealth, WebhookEventType }

/**
 * The webhook outbox as a port: what the delivery worker, the admin API and the vote engine
 * need of storage. Async (but appendEvents) so a PostgreSQL implementation can follow; the
 * SQLite one (store/sqlite/outbox.ts) and the in-memory one (store/memory/outbox.ts) pass the same
 * contract suite (test/webhooks/outbox-contract.test.ts).
 */

export interface OutboxEvent {
  /** the `webhook-id`: 'msg_' + a 26-character ULID, made when the event is built, the same on every retry */
  id: string
  account: string
  type: WebhookEventType
  /** events with the same key reach an endpoint in commit order, e.g. 'poll:<pollMsgId>' or 'session' */
  orderKey: string
  /** the exact JSON body sent, `{ type, timestamp, data }` */
  body: string
  createdAt: number
}

/** The order key of a poll's events: they reach an endpoint in commit order. */
export const pollKey = (pollMsgId: string) => `poll:${pollMsgId}`

/** A poll's question and option texts, in option order: fixed when the poll is created. */
export interface PollTexts {
  question: string
  options: readonly string[]
}

/**
 * A `poll.vote` event as the vote path commits it: a compact record (packVote) instead of the
 * body, about a quarter of its size, and none of the JSON of the results object to build per
 * vote. Its body is rendered from the record and the poll's texts (renderVote), later and off
 * the vote path: SQLite when it fans the batch out, PostgreSQL when a delivery is claimed, each
 * from its own poll row; the memory outbox from `poll`, at once. The id is made with the
 * record, so it is committed with the vote like any event's.
 */
export interface VoteEvent extends Omit<OutboxEvent, 'body' | 'type'> {
  type: 'poll.vote'
  /** pollKey of the record's poll */
  orderKey: string
  /** packVote's text */
  vote: string
  /** the texts as the engine holds them; a durable outbox renders from its stored poll instead */
  poll: PollTexts
}

/** What the vote path appends: events with their body, and poll.vote events as records. */
export type AppendedEvent = OutboxEvent | VoteEvent

/** What a poll.vote body is made of besides the poll's texts and the event's account and time. */
export interface VoteRecord {
  pollMsgId: string
  voter: string
  voterName?: string
  /** option indices of the new selection; [] for a retraction */
  selected: readonly number[]
  /** option indices of the previous selection, null when there was none */
  previous: readonly number[] | null
  senderTimestampMs: number
  /** votes per option after the change, in option order */
  counts: readonly number[]
}

/**
 * The record as JSON text: `[pollMsgId, voter, selected, previous, senderTimestampMs, counts(, voterName)]`,
 * so no control character (the SQLite batch row's separators) is ever raw in it; it starts
 * with `[`, a body with `{`. One JSON.stringify of an array writes one flat string: a batch of
 * records built and packed measured 1.1 µs an event this way, 1.8–2.2 µs as a template of the
 * same parts (whose pieces live on, and are copied by the GC, until the batch is written).
 */
export const packVote = (v: VoteRecord): string => (v.voterName
  ? JSON.stringify([v.pollMsgId, v.voter, v.selected, v.previous, v.senderTimestampMs, v.counts, v.voterName])
  : JSON.stringify([v.pollMsgId, v.voter, v.selected, v.previous, v.senderTimestampMs, v.counts]))

export function unpackVote(text: string): VoteRecord {
  const [pollMsgId, voter, selected, previous, senderTimestampMs, counts, voterName] =
    JSON.parse(text) as [string, string, number[], number[] | null, number, number[], string | undefined]
  return { pollMsgId, voter, selected, previous, senderTimestampMs, counts, ...(voterName ? { voterName } : {}) }
}

/**
 * The body of a poll.vote event from its record: the objects core/webhooks/events.ts pollVote
 * would have been given (texts in selection order, results keyed by option text in option order,
 * assigned one by one), through the same pollVoteFields and eventBody, so the bytes are the same.
 */
export function renderVote(event: Pick<OutboxEvent, 'account' | 'createdAt'>, v: VoteRecord, poll: PollTexts): string {
  const texts = (sel: readonly number[]) => sel.map((i) => poll.options[i]!)
  const results: Record<string, number> = {}
  poll.options.forEach((o, i) => { results[o] = v.counts[i]! })
  return eventBody('poll.vote', event.createdAt, pollVoteFields({
    account: event.account, pollMsgId: v.pollMsgId, voter: v.voter, voterName: v.voterName,
    selected: texts(v.selected), previous: v.previous && texts(v.previous), senderTimestampMs: v.senderTimestampMs,
    results, question: poll.question,
  }))
}

/** Why a record cannot become a body: its poll is not in the store (deleted by hand; a purge renders first). */
export const unstored = (pollMsgId: string, account: string) =>
  `poll ${pollMsgId} of account ${account} is not stored: the poll.vote body cannot be rendered`

/** A full event from an appended one: a VoteEvent rendered from the texts it carries. */
export const withBody = (e: AppendedEvent): OutboxEvent =>
  ('vote' in e
    ? { id: e.id, account: e.account, type: e.type, orderKey: e.orderKey, createdAt: e.createdAt, body: renderVote(e, unpackVote(e.vote), e.poll) }
    : e)

/** What addEndpoint takes: the secret is stored with the endpoint but only secretOf() gives it back. */
export interface NewEndpoint extends Omit<Endpoint, 'createdAt'> {
  secret: string
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery extends Delivery {
  event: OutboxEvent
}

export type SettleOutcome =
  | { status: 'delivered'; at: number; httpStatus?: number }
  | { status: 'retry'; at: number; nextAt: number; error: string; httpStatus?: number }
  | { status: 'failed'; at: number; error: string; httpStatus?: number }

export interface OutboxPort {
  /**
   * Pending deliveries of `endpointId` due at `now`, oldest first, at most `limit`. Never one
   * whose earlier delivery with the same orderKey to the same endpoint is still pending (a
   * failed one no longer blocks), and never one already claimed and not yet settled: a claim
   * is a lease, so a delivery is never sent twice at once.
   */
  claim(endpointId: string, limit: number, now: number): Promise<ClaimedDelivery[]>
  /** Records one attempt's outcome and ends the claim; a delivery that no longer exists is ignored. */
  settle(id: string, outcome: SettleOutcome): Promise<void>
  list(query: DeliveryQuery): Promise<Delivery[]>
  get(id: string): Promise<Delivery | undefined>
  /** Makes a delivery pending and due now, attempts kept; false when there is no such delivery. */
  retry(id: string): Promise<boolean>

  addEndpoint(endpoint: NewEndpoint): Promise<Endpoint>
  /** Removes the endpoint and every delivery to it; false when unknown. */
  removeEndpoint(id: string): Promise<boolean>
  /** Replaces the signing secret (WEBHOOK_SECRET changed): pending deliveries are then signed with it. */
  setSecret(id: string, secret: string): Promise<boolean>
  endpoints(): Promise<Endpoint[]>
  secretOf(id: string): Promise<string | undefined>

  /** pending deliveries per endpoint id (endpoints with none are absent) */
  backlog(): Promise<Record<string, number>>
  health(endpointId: string): Promise<EndpointHealth | undefined>
  /**
   * Deletes settled deliveries created before `before`, and events no delivery refers to any
   * more; returns how many deliveries went. Pending ones stay whatever their age.
   */
  prune(before: number): Promise<number>
}

/** What the vote engine holds: appendEvents runs inside the caller's open transaction (SQLite), so it is synchronous. */
export interface Outbox extends OutboxPort {
  /**
   * Writes the events and one pending delivery per matching endpoint (its events filter and
   * account filter), due at once. An event no endpoint wants is not stored at all.
   */
  appendEvents(events: AppendedEvent[]): void
  /** Whether any endpoint wants events of this type and account: nobody listening, no event is built. */
  wanted(type: WebhookEventType, account: string): boolean
  /** Called (in a microtask, after the transaction ended) each time events were appended; returns the remover. */
  onAppend(fn: () => void): () => void
}

/** Calls the listeners once the synchronous transaction that appended has ended. */
export function appendNotifier() {
  const listeners = new Set<() => void>()
  let queued = false
  return {
    on(fn: () => void) { listeners.add(fn); return () => { listeners.delete(fn) } },
    notify() {
      if (queued || !listeners.size) return
      queued = true
      queueMicrotask(() => { queued = false; for (const fn of listeners) fn() })
    },
  }
}

/** Whether an endpoint subscribed to this event: its type filter and its account filter (null = all). */
export function wants(endpoint: Pick<Endpoint, 'events' | 'account'>, event: Pick<OutboxEvent, 'type' | 'account'>): boolean {
  return (endpoint.events === null || endpoint.events.includes(event.type))
    && (endpoint.account === null || endpoint.account === event.account)
}
