import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { ConnectionStatus } from '../contract/account.ts'
import type { Emitter } from '../contract/events.ts'
import type { VoteMetrics } from '../core/votes/metrics.ts'

export type { VoteMetrics }

export interface Metrics extends VoteMetrics {
  /** the router's `observe` hook */
  observeHttp(route: string, method: string, status: number): void
  /** counts polls and reconnects from the session's events; returns the remover */
  watch(emitter: Emitter): () => void
  /** a webhook delivery attempt's outcome (the delivery worker's metrics hook) */
  webhookDelivery(outcome: 'delivered' | 'retry' | 'failed'): void
  /** the exposition text for GET /metrics */
  text(): Promise<string>
  readonly contentType: string
}

/** The vote journal's state as the engine keeps it (VoteEngine.stats()), read at scrape time. */
export interface JournalStats {
  /** polls shown by the API */
  polls: number
  /** journal rows that decrypted and count (or counted) */
  decrypted: number
  duplicate: number
  rejected: number
  /** votes waiting right now, by reason */
  pending: Record<string, number>
}

export interface MetricsDeps {
  stats(): JournalStats
  /** pending webhook deliveries per endpoint, read at scrape time */
  webhookBacklog?(): Promise<Record<string, number>>
  /** process CPU, memory, event loop lag; off in tests that compare whole outputs */
  processMetrics?: boolean
}

const MAX_REASONS = 16
const STATES: ConnectionStatus[] = ['connecting', 'qr_pending', 'ready', 'disconnected', 'logged_out']

/** One registry per app, never prom-client's global one, so two apps in a test do not share counts. */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry()
  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'pollwire_' })
  const registers = [registry]

  const reasons = new Set<string>()
  // Reasons come from code, but a label value is a new series forever: cap them.
  const bounded = (reason: string) => {
    if (reasons.has(reason)) return reason
    if (reasons.size >= MAX_REASONS) return 'other'
    reasons.add(reason)
    return reason
  }

  const received = new Counter({ name: 'pollwire_votes_received_total', help: 'Votes journaled, by where they were seen', labelNames: ['source'], registers })
  const decrypted = new Counter({ name: 'pollwire_votes_decrypted_total', help: 'Votes decrypted and matched to their poll', registers })
  const failed = new Counter({ name: 'pollwire_votes_failed_total', help: 'Votes that can never count, by reason', labelNames: ['reason'], registers })
  const pending = new Counter({ name: 'pollwire_votes_pending_total', help: 'Votes parked until their poll or key is known, by reason', labelNames: ['reason'], registers })
  // The journal survives restarts, so these say where every vote ever received stands; the
  // counters above say what happened since this process started, and need the engine's calls.
  let snapshot: JournalStats | null = null
  const journal = () => (snapshot ??= deps.stats())
  new Gauge({
    name: 'pollwire_journal_votes', help: 'Votes in the journal by state (all time)', labelNames: ['state'], registers,
    collect() {
      const s = journal()
      const pendingAll = Object.values(s.pending).reduce((a, b) => a + b, 0)
      this.set({ state: 'decrypted' }, s.decrypted)
      this.set({ state: 'duplicate' }, s.duplicate)
      this.set({ state: 'rejected' }, s.rejected)
      this.set({ state: 'pending' }, pendingAll)
    },
  })
  new Gauge({
    name: 'pollwire_votes_pending', help: 'Votes waiting right now for their poll or key, by reason', labelNames: ['reason'], registers,
    collect() { this.reset(); for (const [reason, n] of Object.entries(journal().pending)) this.set({ reason: bounded(reason) }, n) },
  })
  new Gauge({ name: 'pollwire_polls', help: 'Polls shown by the API', registers, collect() { this.set(journal().polls) } })
  const created = new Counter({ name: 'pollwire_polls_created_total', help: 'Polls sent or seen from another device of the account since start', registers })
  const updates = new Counter({ name: 'pollwire_poll_updates_total', help: 'Tally changes announced to clients', registers })
  const reconnects = new Counter({ name: 'pollwire_reconnects_total', help: 'Connection attempts to WhatsApp after the first', registers })
  const state = new Gauge({ name: 'pollwire_connection_state', help: '1 for the current WhatsApp connection state', labelNames: ['state'], registers })
  for (const s of STATES) state.set({ state: s }, s === 'disconnected' ? 1 : 0)
  const http = new Counter({ name: 'pollwire_http_requests_total', help: 'HTTP API requests by route pattern, method and status', labelNames: ['route', 'method', 'status'], registers })

  let attempts = 0
  const deliveries = new Counter({ name: 'pollwire_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers })
  new Gauge({
    name: 'pollwire_webhook_backlog', help: 'Webhook deliveries waiting to be sent, by endpoint', labelNames: ['endpoint'], registers,
    async collect() {
      this.reset()
      for (const [endpoint, n] of Object.entries(await deps.webhookBacklog?.() ?? {})) this.set({ endpoint }, n)
    },
  })

  return {
    voteReceived: (source) => received.inc({ source }),
    webhookDelivery: (outcome) => deliveries.inc({ outcome }),
    voteDecrypted: () => decrypted.inc(),
    voteFailed: (reason) => failed.inc({ reason: bounded(reason) }),
    votePending: (reason) => pending.inc({ reason: bounded(reason) }),
    observeHttp: (route, method, status) => http.inc({ route, method, status: String(status) }),
    watch(emitter) {
      const offs = [
        emitter.on('status', (s) => {
          for (const each of STATES) state.set({ state: each }, each === s ? 1 : 0)
          // Every socket the session opens passes through `connecting` (a fresh pairing after
          // logged_out does not), so all but the first are reconnects.
          if (s === 'connecting' && attempts++ > 0) reconnects.inc()
        }),
        emitter.on('poll:new', () => created.inc()),
        emitter.on('poll:update', () => updates.inc()),
      ]
      return () => { for (const off of offs) off() }
    },
    async text() {
      // One engine snapshot per scrape, however many gauges read it.
      snapshot = null
      try { return await registry.metrics() } finally { snapshot = null }
    },
    contentType: registry.contentType,
  }
}

/** For an engine built without metrics (tests, tools). */
