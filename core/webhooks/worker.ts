import type { Logger } from 'pino'
import { retryAt } from './backoff.ts'
import type { ClaimedDelivery, OutboxPort, SettleOutcome } from '../../store/outbox-port.ts'
import type { Endpoint } from '../../contract/webhooks.ts'
import { createSender, realTimers, type Sender, type Timers } from './sender.ts'

/** What the delivery worker reports; the runtime turns it into prom-client counters. */
export interface WebhookMetrics {
  delivery(outcome: 'delivered' | 'retry' | 'failed', endpointId: string): void
}

export interface DeliveryWorkerOptions {
  outbox: OutboxPort
  log: Logger
  fetch?: typeof fetch
  now?: () => number
  timers?: Timers
  metrics?: WebhookMetrics
  /** jitter of the retry schedule */
  random?: () => number
  /** how long an event is retried for, from its creation (WEBHOOK_RETRY_FOR; default 24 h) */
  retryForMs?: number
  /**
   * True while the vote path has work queued: new claims wait (checked every 20 ms, 2 s at most)
   * so a flood of votes is journaled first and delivered right after. Events are durable in the
   * outbox meanwhile; only their delivery waits.
   */
  yieldTo?: () => boolean
  /** requests in flight per endpoint at most */
  concurrency?: number
  /** how often due retries are looked for when nothing wakes the worker */
  pollMs?: number
  /** one attempt, redirects and answer included */
  timeoutMs?: number
  /** how long stop() waits for requests in flight before it cuts them */
  stopTimeoutMs?: number
  /** settled deliveries older than this are pruned (hourly) */
  keepMs?: number
  pruneEveryMs?: number
  /** replaces the HTTP sender (tests, benchmarks) */
  sender?: Sender
}

export interface DeliveryWorker {
  start(): Promise<void>
  /** Waits for requests in flight (at most stopTimeoutMs, then cuts them: they stay pending). */
  stop(): Promise<void>
  /**
   * Call after each commit that appended events, so delivery starts now and not at the next
   * tick. `all`: failing endpoints too (a manual retry), which a plain wake leaves to the tick.
   */
  wake(all?: boolean): void
}

interface Loop {
  endpoint: Endpoint
  inFlight: number
  pumping: boolean
  again: boolean
  /** whether the last attempt failed, to log a change of health once rather than every attempt */
  failing: boolean
}

class Stopping extends Error {}

/**
 * Sends what the outbox holds. Each endpoint has its own loop with at most `concurrency`
 * requests in flight, so a slow or dead endpoint only ever waits on itself; the vote path
 * only appends and calls wake(). Per endpoint, one order key (one poll) is in flight at a time
 * at most: the outbox's claim holds back a delivery while an earlier one of its key is pending.
 */
export function createDeliveryWorker(opts: DeliveryWorkerOptions): DeliveryWorker {
  const {
    outbox, log, now = Date.now, timers = realTimers, metrics, random = Math.random,
    concurrency = 4, pollMs = 1000, stopTimeoutMs = 5000,
    keepMs = 7 * 24 * 3_600_000, pruneEveryMs = 3_600_000,
  } = opts
  const sender = opts.sender ?? createSender({ fetch: opts.fetch, now, timers, timeoutMs: opts.timeoutMs })
  const loops = new Map<string, Loop>()
  const inFlight = new Set<Promise<void>>()
  const claiming = new Set<Promise<void>>()
  const cut = new AbortController()
  let state: 'idle' | 'running' | 'stopped' = 'idle'
  let tick: unknown
  let woken = false
  let wokenAll = false
  let passing: Promise<void> | null = null
  let again: 'all' | 'healthy' | null = null
  let lastPrune = now()

  async function refresh(): Promise<void> {
    const current = await outbox.endpoints()
    const seen = new Set<string>()
    for (const endpoint of current) {
      seen.add(endpoint.id)
      const loop = loops.get(endpoint.id)
      if (loop) loop.endpoint = endpoint
      else loops.set(endpoint.id, { endpoint, inFlight: 0, pumping: false, again: false, failing: false })
    }
    // Sends in flight to a removed endpoint finish; their settle finds no row and does nothing.
    for (const id of loops.keys()) if (!seen.has(id)) loops.delete(id)
  }

  /**
   * One look at the endpoints; calls that come while one runs fold into one more. A wake skips
   * failing endpoints: they are looked at on the tick only (and at each of their own answers once
   * one succeeds again), so an endpoint that is down costs one claim per tick, not one per commit.
   */
  function pass(all: boolean): Promise<void> {
    if (passing) {
      again = again === 'all' || all ? 'all' : 'healthy'
      return passing
    }
    passing = (async () => {
      let mode: 'all' | 'healthy' | null = all ? 'all' : 'healthy'
      while (mode && state === 'running') {
        again = null
        try {
          await refresh()
        } catch (err) {
          log.error({ err }, 'webhook endpoints could not be read')
          return
        }
        for (const loop of loops.values()) if (mode === 'all' || !loop.failing) void pump(loop)
        if (mode === 'all') await maybePrune()
        mode = again
      }
    })().finally(() => { passing = null })
    return passing
  }

  function pump(loop: Loop): Promise<void> {
    if (loop.pumping) { loop.again = true; return Promise.resolve() }
    loop.pumping = true
    const job = (async () => {
      do {
        loop.again = false
        const free = concurrency - loop.inFlight
        if (free <= 0 || state !== 'running' || loops.get(loop.endpoint.id) !== loop) break
        // At most a few seconds: under a vote stream that never pauses, deliveries still get their turn.
        const until = now() + 2000
        while (opts.yieldTo?.() && state === 'running' && now() < until) await new Promise<void>((resolve) => timers.setTimeout(resolve, 20))
        if (state !== 'running') break
        const [secret, claimed] = await Promise.all([outbox.secretOf(loop.endpoint.id), outbox.claim(loop.endpoint.id, free, now())])
        // Stopped during the claim: nothing new goes out. The claims lapse with the process
        // (SQLite keeps them in memory), or after their lease.
        if (state !== 'running') break
        for (const d of claimed) launch(loop, secret, d)
      } while (loop.again)
    })()
      .catch((err) => { log.error({ err, endpointId: loop.endpoint.id }, 'webhook deliveries could not be claimed') })
      .finally(() => {
        loop.pumping = false
        claiming.delete(job)
      })
    claiming.add(job)
    return job
  }

  function launch(loop: Loop, secret: string | undefined, d: ClaimedDelivery): void {
    loop.inFlight++
    const job = deliver(loop, secret, d)
      .catch((err) => {
        if (!(err instanceof Stopping)) log.error({ err, deliveryId: d.id, endpointId: d.endpointId }, 'webhook delivery could not be settled')
      })
      .finally(() => {
        loop.inFlight--
        inFlight.delete(job)
        if (!loop.failing) void pump(loop)
      })
    inFlight.add(job)
  }

  async function deliver(loop: Loop, secret: string | undefined, d: ClaimedDelivery): Promise<void> {
    const attempt = d.attempts + 1
    const fields = { eventId: d.eventId, endpointId: d.endpointId, deliveryId: d.id, attempt }
    const result = secret === undefined
      ? { ok: false as const, error: 'endpoint has no secret' }
      : await sender.send({ url: loop.endpoint.url, secret, event: d.event, signal: cut.signal })
    // Cut short by stop(): not an attempt; the delivery stays pending for the next start.
    if (cut.signal.aborted && !result.ok) throw new Stopping()
    const at = now()
    let outcome: SettleOutcome
    if (result.ok) {
      outcome = { status: 'delivered', at, httpStatus: result.status }
    } else {
      const next = retryAt(attempt, at, d.event.createdAt, random, opts.retryForMs)
      outcome = next === null
        ? { status: 'failed', at, error: result.error, httpStatus: result.status }
        : { status: 'retry', at, nextAt: next, error: result.error, httpStatus: result.status }
    }
    await outbox.settle(d.id, outcome)
    metrics?.delivery(outcome.status, d.endpointId)
    const status = 'httpStatus' in outcome ? outcome.httpStatus : undefined
    if (outcome.status === 'delivered') {
      if (loop.failing) log.info({ ...fields, status }, 'webhook endpoint answers again')
      else log.debug({ ...fields, status }, 'webhook delivered')
      loop.failing = false
      return
    }
    if (outcome.status === 'failed') {
      log.warn({ ...fields, status, error: outcome.error }, 'webhook delivery failed for good; retry it with POST /webhooks/deliveries/:id/retry')
    } else if (!loop.failing) {
      log.warn({ ...fields, status, error: outcome.error, nextAt: outcome.nextAt }, 'webhook endpoint failing; retrying')
    } else {
      log.debug({ ...fields, status, error: outcome.error, nextAt: outcome.nextAt }, 'webhook delivery will be retried')
    }
    loop.failing = true
  }

  async function maybePrune(): Promise<void> {
    const at = now()
    if (at - lastPrune < pruneEveryMs) return
    lastPrune = at
    try {
      const n = await outbox.prune(at - keepMs)
      if (n) log.info({ deliveries: n }, 'old webhook deliveries pruned')
    } catch (err) {
      log.error({ err }, 'webhook deliveries could not be pruned')
    }
  }

  function schedule(): void {
    tick = timers.setTimeout(() => {
      if (state !== 'running') return
      void pass(true).finally(() => { if (state === 'running') schedule() })
    }, pollMs)
  }

  return {
    async start() {
      if (state !== 'idle') return
      state = 'running'
      await pass(true)
      schedule()
    },

    wake(all = false) {
      if (state !== 'running') return
      wokenAll ||= all
      if (woken) return
      woken = true
      // Folds the wakes of one turn of the event loop into one pass.
      queueMicrotask(() => {
        const everyone = wokenAll
        woken = false
        wokenAll = false
        void pass(everyone)
      })
    },

    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      timers.clearTimeout(tick)
      if (passing) await passing
      await Promise.allSettled([...claiming])
      if (inFlight.size) {
        let timer: unknown
        const late = new Promise<'late'>((resolve) => { timer = timers.setTimeout(() => resolve('late'), stopTimeoutMs) })
        const done = await Promise.race([Promise.allSettled([...inFlight]), late])
        timers.clearTimeout(timer)
        if (done === 'late') {
          log.warn({ inFlight: inFlight.size }, 'webhook requests still open at stop were cut; they stay pending')
          cut.abort(new Error('worker stopping'))
          await Promise.allSettled([...inFlight])
        }
      }
    },
  }
}
