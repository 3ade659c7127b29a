import type { Delivery, DeliveryStatus, Endpoint, WebhookEventType } from '../contract/webhooks.ts'
import { renderVote, unpackVote, unstored, type ClaimedDelivery } from './outbox-port.ts'

/*
 * The outbox's rows as both stores read them back (SQLite and PostgreSQL select the same
 * columns under the same names), turned into the port's objects in one place.
 */

export interface DeliveryRow {
  id: number; endpoint_id: string; status: DeliveryStatus; attempts: number; next_at: number; created_at: number
  last_error: string | null; last_status: number | null; delivered_at: number | null; event_id: string; type: WebhookEventType
}

/**
 * A claimed delivery's row: the delivery, and the event it carries: its body, or (PostgreSQL) a
 * poll.vote record with its poll's question and options to render the body from.
 */
export interface ClaimRow extends DeliveryRow {
  account: string; order_key: string; body: string | null; event_created_at: number
  vote?: string | null; question?: string | null; options?: string[] | null
}

export function toDelivery(r: DeliveryRow): Delivery {
  const d: Delivery = {
    id: String(r.id), eventId: r.event_id, endpointId: r.endpoint_id, type: r.type, status: r.status,
    attempts: r.attempts, nextAt: r.next_at, createdAt: r.created_at,
  }
  if (r.last_error !== null) d.lastError = r.last_error
  if (r.last_status !== null) d.lastStatus = r.last_status
  if (r.delivered_at !== null) d.deliveredAt = r.delivered_at
  return d
}

/** Throws when the row is a record whose poll is not stored (its body cannot be rendered). */
export const toClaimed = (r: ClaimRow): ClaimedDelivery => ({
  ...toDelivery(r),
  event: { id: r.event_id, account: r.account, type: r.type, orderKey: r.order_key, body: r.body ?? rendered(r), createdAt: r.event_created_at },
})

function rendered({ vote, question, options, account, event_created_at: createdAt }: ClaimRow): string {
  if (!vote) throw new Error('an outbox event with neither a body nor a record')
  const record = unpackVote(vote)
  if (question == null || !options) throw new Error(unstored(record.pollMsgId, account))
  return renderVote({ account, createdAt }, record, { question, options })
}

/** A copy the caller may change without changing the store's own. */
export const copyEndpoint = (ep: Endpoint): Endpoint => ({ ...ep, events: ep.events && [...ep.events] })
