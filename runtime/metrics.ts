import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { ConnectionStatus } from '../contract/account.ts'
import type { Emitter } from '../contract/events.ts'
import type { VoteMetrics } from '../core/votes/metrics.ts'

export type { VoteMetrics }

/**
 * The server's metrics. Every series about an account carries `account` (its id; `default` for
 * the GUI's account): votes, polls, the journal, connection state and reconnects. HTTP requests
 * and webhook deliveries are the server's own and carry none.
 */
export interface Metrics {
  /** the vote engine's hooks for one account */
  account(id: string): VoteMetrics
  /** the router's `observe` hook */
  observeHttp(route: string, method: string, status: number): void
  /** counts polls and reconnects from one account's events; returns the remover */
  watch(emitter: Emitter, account: string): () => void
  /** drops every series of an account that was removed */
  forget(account: string): Promise<void>
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
  /** each linked account's journal state, by account id */
  stats(): Record<string, JournalStats>
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

  const received = new Counter({ name: 'pollwire_votes_received_total', help: 'Votes journaled, by account and where they were seen', labelNames: ['account', 'source'], registers })
  const decrypted = new Counter({ name: 'pollwire_votes_decrypted_total', help: 'Votes decrypted and matched to their poll, by account', labelNames: ['account'], registers })
  const failed = new Counter({ name: 'pollwire_votes_failed_total', help: 'Votes that can never count, by account and reason', labelNames: ['account', 'reason'], registers })
  const pending = new Counter({ name: 'pollwire_votes_pending_total', help: 'Votes parked until their poll or key is known, by account and reason', labelNames: ['account', 'reason'], registers })
  // The journal survives restarts, so these say where every vote ever received stands; the
  // counters above say what happened since this process started, and need the engine's calls.
  let snapshot: Record<string, JournalStats> | null = null
  const journal = () => Object.entries(snapshot ??= deps.stats())
  new Gauge({
    name: 'pollwire_journal_votes', help: 'Votes in the journal by account and state (all time)', labelNames: ['account', 'state'], registers,
    collect() {
      this.reset()
      for (const [account, s] of journal()) {
        const pendingAll = Object.values(s.pending).reduce((a, b) => a + b, 0)
        this.set({ account, state: 'decrypted' }, s.decrypted)
        this.set({ account, state: 'duplicate' }, s.duplicate)
        this.set({ account, state: 'rejected' }, s.rejected)
        this.set({ account, state: 'pending' }, pendingAll)
      }
    },
  })
  new Gauge({
    name: 'pollwire_votes_pending', help: 'Votes waiting right now for their poll or key, by account and reason', labelNames: ['account', 'reason'], registers,
    collect() {
      this.reset()
      for (const [account, s] of journal()) for (const [reason, n] of Object.entries(s.pending)) this.set({ account, reason: bounded(reason) }, n)
    },
  })
  new Gauge({
    name: 'pollwire_polls', help: 'Polls shown by the API, by account', labelNames: ['account'], registers,
    collect() { this.reset(); for (const [account, s] of journal()) this.set({ account }, s.polls) },
  })
  const created = new Counter({ name: 'pollwire_polls_created_total', help: 'Polls sent or seen from another device of the account since start', labelNames: ['account'], registers })
  const updates = new Counter({ name: 'pollwire_poll_updates_total', help: 'Tally changes announced to clients, by account', labelNames: ['account'], registers })
  const reconnects = new Counter({ name: 'pollwire_reconnects_total', help: 'Connection attempts to WhatsApp after the first, by account', labelNames: ['account'], registers })
  const state = new Gauge({ name: 'pollwire_connection_state', help: '1 for the current WhatsApp connection state of each account', labelNames: ['account', 'state'], registers })
  const http = new Counter({ name: 'pollwire_http_requests_total', help: 'HTTP API requests by route pattern, method and status', labelNames: ['route', 'method', 'status'], registers })
  const perAccount = [received, decrypted, failed, pending, created, updates, reconnects, state]

  const deliveries = new Counter({ name: 'pollwire_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers })
  new Gauge({
    name: 'pollwire_webhook_backlog', help: 'Webhook deliveries waiting to be sent, by endpoint', labelNames: ['endpoint'], registers,
    async collect() {
      this.reset()
      for (const [endpoint, n] of Object.entries(await deps.webhookBacklog?.() ?? {})) this.set({ endpoint }, n)
    },
  })

  const hooks = new Map<string, VoteMetrics>()
  return {
    account(account) {
      let h = hooks.get(account)
      if (!h) {
        h = {
          voteReceived: (source) => received.inc({ account, source }),
          voteDecrypted: () => decrypted.inc({ account }),
          voteFailed: (reason) => failed.inc({ account, reason: bounded(reason) }),
          votePending: (reason) => pending.inc({ account, reason: bounded(reason) }),
        }
        hooks.set(account, h)
      }
      return h
    },
    webhookDelivery: (outcome) => deliveries.inc({ outcome }),
    observeHttp: (route, method, status) => http.inc({ route, method, status: String(status) }),
    watch(emitter, account) {
      let attempts = 0
      for (const s of STATES) state.set({ account, state: s }, s === 'disconnected' ? 1 : 0)
      // Present from the start, at zero: a rate over an account's counters needs its first sample.
      for (const c of [decrypted, created, updates, reconnects]) c.inc({ account }, 0)
      const offs = [
        emitter.on('status', (s) => {
          for (const each of STATES) state.set({ account, state: each }, each === s ? 1 : 0)
          // Every socket the session opens passes through `connecting` (a fresh pairing after
          // logged_out does not), so all but the first are reconnects.
          if (s === 'connecting' && attempts++ > 0) reconnects.inc({ account })
        }),
        emitter.on('poll:new', () => created.inc({ account })),
        emitter.on('poll:update', () => updates.inc({ account })),
      ]
      return () => { for (const off of offs) off() }
    },
    async forget(account) {
      hooks.delete(account)
      for (const metric of perAccount) {
        for (const { labels } of (await metric.get()).values) if (labels.account === account) metric.remove(labels as Record<string, string>)
      }
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
