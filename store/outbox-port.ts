import type { Delivery, DeliveryQuery, DeliveryStatus, Endpoint, EndpointHealth, WebhookEventType } from '../contract/webhooks.ts'

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
  appendEvents(events: OutboxEvent[]): void
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
