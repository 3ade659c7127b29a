import type { ClaimedDelivery, Delivery, Endpoint, EndpointHealth, Outbox, OutboxEvent, SettleOutcome } from '../outbox-port.ts'
import { appendNotifier, wants, withBody } from '../outbox-port.ts'

export interface MemoryOutboxOptions {
  now?: () => number
  /** how long a claim holds a delivery when it is never settled (a crashed send) */
  leaseMs?: number
}

interface Row extends Delivery { seq: number; orderKey: string }

/** The outbox port in memory, for unit tests of the worker and the admin API. */
export function createMemoryOutbox({ now = Date.now, leaseMs = 120_000 }: MemoryOutboxOptions = {}): Outbox {
  const endpoints = new Map<string, Endpoint>()
  const appended = appendNotifier()
  const secrets = new Map<string, string>()
  const health = new Map<string, EndpointHealth>()
  const events = new Map<string, OutboxEvent>()
  const deliveries = new Map<string, Row>()
  const leases = new Map<string, number>()
  let seq = 0

  const copy = ({ seq: _s, orderKey: _o, ...d }: Row): Delivery => ({ ...d })
  const pendingBefore = (d: Row) => {
    for (const p of deliveries.values()) {
      if (p.seq < d.seq && p.status === 'pending' && p.endpointId === d.endpointId && p.orderKey === d.orderKey) return true
    }
    return false
  }

  return {
    appendEvents(list) {
      for (const event of list) {
        const targets = [...endpoints.values()].filter((ep) => wants(ep, event))
        if (!targets.length) continue
        // Nothing here outlives the process: a poll.vote record is rendered at once, from the texts it carries.
        events.set(event.id, withBody(event))
        for (const ep of targets) {
          const id = String(++seq)
          deliveries.set(id, {
            id, seq, eventId: event.id, endpointId: ep.id, type: event.type, orderKey: event.orderKey,
            status: 'pending', attempts: 0, nextAt: event.createdAt, createdAt: event.createdAt,
          })
          appended.notify()
        }
      }
    },

    wanted(type, account) {
      for (const ep of endpoints.values()) if (wants(ep, { type, account })) return true
      return false
    },
    onAppend: (fn) => appended.on(fn),

    async claim(endpointId, limit, now) {
      const out: ClaimedDelivery[] = []
      for (const d of deliveries.values()) {
        if (out.length >= limit) break
        if (d.endpointId !== endpointId || d.status !== 'pending' || d.nextAt > now) continue
        if ((leases.get(d.id) ?? -Infinity) > now || pendingBefore(d)) continue
        leases.set(d.id, now + leaseMs)
        out.push({ ...copy(d), event: { ...events.get(d.eventId)! } })
      }
      return out
    },

    async settle(id, outcome: SettleOutcome) {
      leases.delete(id)
      const d = deliveries.get(id)
      if (!d) return
      d.attempts++
      if (outcome.httpStatus === undefined) delete d.lastStatus
      else d.lastStatus = outcome.httpStatus
      const h = health.get(d.endpointId)
      if (outcome.status === 'delivered') {
        d.status = 'delivered'
        d.deliveredAt = outcome.at
        if (h) { h.lastSuccessAt = outcome.at; h.consecutiveFailures = 0 }
        return
      }
      d.status = outcome.status === 'retry' ? 'pending' : 'failed'
      if (outcome.status === 'retry') d.nextAt = outcome.nextAt
      d.lastError = outcome.error
      if (h) { h.lastFailureAt = outcome.at; h.lastError = outcome.error; h.consecutiveFailures++ }
    },

    async list({ status, endpointId, limit }) {
      const out: Delivery[] = []
      for (const d of [...deliveries.values()].reverse()) {
        if (out.length >= limit) break
        if ((status && d.status !== status) || (endpointId && d.endpointId !== endpointId)) continue
        out.push(copy(d))
      }
      return out
    },

    async get(id) {
      const d = deliveries.get(id)
      return d && copy(d)
    },

    async retry(id) {
      const d = deliveries.get(id)
      if (!d) return false
      d.status = 'pending'
      d.nextAt = now()
      return true
    },

    async addEndpoint({ secret, ...ep }) {
      if (endpoints.has(ep.id)) throw new Error(`webhook endpoint ${ep.id} exists already`)
      const endpoint: Endpoint = { ...ep, events: ep.events && [...ep.events], createdAt: now() }
      endpoints.set(ep.id, endpoint)
      secrets.set(ep.id, secret)
      health.set(ep.id, { lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0 })
      return { ...endpoint }
    },

    async removeEndpoint(id) {
      if (!endpoints.delete(id)) return false
      secrets.delete(id)
      health.delete(id)
      for (const [key, d] of deliveries) if (d.endpointId === id) { deliveries.delete(key); leases.delete(key) }
      return true
    },

    async setSecret(id, secret) {
      if (!endpoints.has(id)) return false
      secrets.set(id, secret)
      return true
    },

    async endpoints() {
      return [...endpoints.values()].map((ep) => ({ ...ep, events: ep.events && [...ep.events] }))
    },

    async secretOf(id) {
      return secrets.get(id)
    },

    async backlog() {
      const out: Record<string, number> = {}
      for (const d of deliveries.values()) if (d.status === 'pending') out[d.endpointId] = (out[d.endpointId] ?? 0) + 1
      return out
    },

    async health(endpointId) {
      const h = health.get(endpointId)
      return h && { ...h }
    },

    async prune(before) {
      let n = 0
      for (const [key, d] of deliveries) {
        if (d.status !== 'pending' && d.createdAt < before) { deliveries.delete(key); n++ }
      }
      const used = new Set([...deliveries.values()].map((d) => d.eventId))
      for (const key of events.keys()) if (!used.has(key)) events.delete(key)
      return n
    },
  }
}
