import { Webhook } from 'standardwebhooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createWebhooksAdmin } from '../../core/webhooks/admin.ts'
import { pollVote } from '../../core/webhooks/events.ts'
import type { OutboxEvent } from '../../store/outbox-port.ts'
import { generateSecret } from '../../core/webhooks/secret.ts'
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions, type WebhookMetrics } from '../../core/webhooks/worker.ts'
import { openMemoryDb, tx, type Db } from '../../store/sqlite/db.ts'
import { createSqliteOutbox, type SqliteOutbox } from '../../store/sqlite/outbox.ts'
import { silent } from '../fakes.ts'
import { createFakeClock, waitFor } from './fake-clock.ts'
import { startReceiver } from './receiver.ts'

const H = 3_600_000

interface Rig {
  db: Db
  outbox: SqliteOutbox
  worker: DeliveryWorker
  /** what the vote engine does: append in its transaction, then wake the worker */
  commit(events: OutboxEvent[]): void
  endpoint(id: string, url: string, secret?: string): Promise<string>
}

function rig(opts: Partial<DeliveryWorkerOptions> & { now?: () => number } = {}): Rig {
  const db = openMemoryDb()
  const outbox = createSqliteOutbox(db, { now: opts.now })
  const worker = createDeliveryWorker({ outbox, log: silent, random: () => 0.5, ...opts })
  return {
    db, outbox, worker,
    commit(events) {
      tx(db, () => outbox.appendEvents(events))
      worker.wake()
    },
    async endpoint(id, url, secret = generateSecret()) {
      await outbox.addEndpoint({ id, url, events: null, account: null, source: 'api', secret })
      return secret
    },
  }
}

let voteN = 0
const vote = (pollMsgId: string, at = Date.now()) => pollVote({
  account: 'default', pollMsgId, voter: `1555000${String(++voteN).padStart(4, '0')}@s.whatsapp.net`, selected: ['Red'], previous: null,
  senderTimestampMs: at, results: { Red: voteN }, question: 'Colour?',
}, at)

const work = suite('createDeliveryWorker')
const cleanups: Array<() => Promise<void> | void> = []
work.after.each(async () => { while (cleanups.length) await cleanups.pop()!() })
const receiver = async (...args: Parameters<typeof startReceiver>) => {
  const r = await startReceiver(...args)
  cleanups.push(r.close)
  return r
}
const started = async (r: Rig) => {
  await r.worker.start()
  cleanups.push(async () => { await r.worker.stop(); await r.outbox.flush(); r.db.close() })
}

work('every delivery is signed: real receivers verify each one with their own secret', async () => {
  const secrets: Record<string, string> = { a: generateSecret(), b: generateSecret() }
  const verified: Record<string, string[]> = { a: [], b: [] }
  const verifier = (name: string) => receiver((q, res) => {
    try {
      new Webhook(secrets[name]!).verify(q.body, q.headers)
      verified[name]!.push(q.id)
      res.writeHead(204).end()
    } catch {
      res.writeHead(401).end('bad signature')
    }
  })
  const [a, b] = [await verifier('a'), await verifier('b')]
  const r = rig()
  await r.endpoint('A', a.url, secrets.a)
  await r.endpoint('B', b.url, secrets.b)
  await started(r)
  const events = Array.from({ length: 30 }, (_, i) => vote(`P${i % 5}`))
  r.commit(events.slice(0, 10))
  r.commit(events.slice(10))
  await waitFor(() => verified.a!.length === 30 && verified.b!.length === 30, 5000, 'all deliveries')
  for (const name of ['a', 'b']) {
    assert.equal([...verified[name]!].sort(), events.map((e) => e.id).sort(), `${name}: each event exactly once`)
    for (let p = 0; p < 5; p++) {
      const want = events.filter((e) => e.orderKey === `poll:P${p}`).map((e) => e.id)
      assert.equal(verified[name]!.filter((id) => want.includes(id)), want, `${name}: poll P${p} in commit order`)
    }
  }
  assert.is(a.requests.length + b.requests.length, 60, 'no retries: every signature verified')
  await waitFor(async () => Object.keys(await r.outbox.backlog()).length === 0, 2000, 'settles')
})

work('500 three times, then 200: the same webhook-id on every attempt, the attempts listed', async () => {
  const clock = createFakeClock()
  let n = 0
  const rcv = await receiver((_q, res) => { res.writeHead(++n <= 3 ? 500 : 200).end(n <= 3 ? 'not yet' : 'ok') })
  const r = rig({ now: clock.now, timers: clock.timers })
  await r.endpoint('A', rcv.url)
  await started(r)
  const e = vote('P1', clock.now())
  r.commit([e])
  const attemptsListed = async (k: number) => {
    await waitFor(() => rcv.requests.length === k, 3000, `attempt ${k}`)
    await waitFor(async () => (await r.outbox.list({ limit: 1 }))[0]!.attempts === k, 3000, `attempt ${k} settled`)
    return (await r.outbox.list({ limit: 1 }))[0]!
  }
  let d = await attemptsListed(1)
  assert.equal([d.status, d.lastStatus, d.lastError, d.nextAt - clock.now()], ['pending', 500, 'HTTP 500: not yet', 5000])
  for (const [k, wait] of [[2, 5_000], [3, 30_000]] as const) {
    await clock.advance(wait - 1000)
    assert.is(rcv.requests.length, k - 1, 'not before its time')
    await clock.advance(1000)
    d = await attemptsListed(k)
    assert.equal([d.status, d.lastStatus], ['pending', 500])
  }
  await clock.advance(120_000)
  d = await attemptsListed(4)
  assert.equal([d.status, d.attempts, d.lastStatus], ['delivered', 4, 200])
  assert.equal(rcv.requests.map((q) => q.id), [e.id, e.id, e.id, e.id])
  assert.ok(rcv.requests.every((q) => q.body === e.body))
  assert.equal((await r.outbox.health('A'))!.consecutiveFailures, 0)
})

work('a receiver down for more than the schedule: failed, listed as failed, and a retry delivers it', async () => {
  const clock = createFakeClock()
  let up = false
  const seen: string[] = []
  const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    seen.push((init!.headers as Record<string, string>)['webhook-id']!)
    if (!up) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })
    return new Response(null, { status: 204 })
  }) as typeof globalThis.fetch
  const outcomes: string[] = []
  const metrics: WebhookMetrics = { delivery: (outcome) => { outcomes.push(outcome) } }
  const r = rig({ now: clock.now, timers: clock.timers, fetch, metrics, pollMs: 60_000 })
  await r.endpoint('A', 'http://127.0.0.1:9/hook')
  await started(r)
  const e = vote('P1', clock.now())
  r.commit([e])
  for (let h = 0; h < 25; h++) await clock.advance(H)
  await r.outbox.flush()
  const [failed] = await r.outbox.list({ status: 'failed', limit: 10 })
  assert.ok(failed, 'listed by status=failed')
  assert.is(failed!.eventId, e.id)
  assert.is(failed!.lastError, 'connection failed: fetch failed (ECONNREFUSED)')
  assert.ok(failed!.attempts >= 26 && failed!.attempts <= 30, `${failed!.attempts} attempts`)
  assert.is(seen.length, failed!.attempts)
  assert.ok(seen.every((id) => id === e.id))
  assert.equal(outcomes.filter((o) => o === 'failed'), ['failed'])
  assert.is((await r.outbox.health('A'))!.consecutiveFailures, failed!.attempts)
  await clock.advance(10 * H)
  assert.is(seen.length, failed!.attempts, 'nothing more once failed')

  up = true
  const admin = createWebhooksAdmin({ outbox: r.outbox, worker: r.worker })
  const retried = await admin.retry(failed!.id)
  assert.equal([retried!.status, retried!.attempts], ['pending', failed!.attempts])
  await waitFor(async () => (await r.outbox.get(failed!.id))!.status === 'delivered', 2000, 'delivered after retry')
  assert.is((await r.outbox.get(failed!.id))!.attempts, failed!.attempts + 1)
  assert.is(outcomes.at(-1), 'delivered')
})

work('two events of one poll, the first failing once: they arrive in commit order; another poll is not held', async () => {
  const clock = createFakeClock()
  const rcv = await receiver((q, res) => {
    const first = rcv.requests.filter((x) => x.id === q.id).length === 1
    res.writeHead(q.id === e1.id && first ? 500 : 204).end()
  })
  const r = rig({ now: clock.now, timers: clock.timers })
  await r.endpoint('A', rcv.url)
  await started(r)
  const [e1, e2, e3] = [vote('P1', clock.now()), vote('P1', clock.now()), vote('P2', clock.now())]
  r.commit([e1, e2, e3])
  await waitFor(() => rcv.requests.length === 2, 3000, 'first round')
  await waitFor(async () => (await r.outbox.list({ status: 'delivered', limit: 10 })).length === 1, 3000, 'P2 delivered')
  assert.equal(rcv.requests.map((q) => q.id).sort(), [e1.id, e3.id].sort(), 'P2 went out; e2 waits behind e1')
  await clock.advance(1000)
  assert.is(rcv.requests.length, 2)
  await clock.advance(5000)
  await waitFor(() => rcv.requests.length === 4, 3000, 'e1 again, then e2')
  assert.equal(rcv.requests.slice(2).map((q) => q.id), [e1.id, e2.id])
})

work('a slow endpoint (never answering) does not delay another endpoint', async () => {
  const hung = await receiver(() => { /* never answers */ })
  const fast = await receiver()
  const r = rig({ timeoutMs: 400 })
  await r.endpoint('SLOW', hung.url)
  await r.endpoint('FAST', fast.url)
  await started(r)
  const events = Array.from({ length: 12 }, (_, i) => vote(`P${i % 6}`))
  const t = Date.now()
  r.commit(events)
  assert.ok(Date.now() - t < 50, 'the commit path only appends and wakes')
  await waitFor(() => fast.requests.length === 12, 3000, 'fast endpoint')
  const took = Date.now() - t
  assert.ok(took < 300, `fast endpoint served in ${took} ms, before the slow one's first timeout`)
  assert.is(hung.requests.length, 4, 'at most 4 in flight to the slow endpoint')
  await waitFor(async () => (await r.outbox.list({ endpointId: 'SLOW', limit: 20 })).filter((d) => d.attempts === 1).length === 4, 3000, 'slow timeouts settled')
  const slow = (await r.outbox.list({ endpointId: 'SLOW', limit: 20 })).filter((d) => d.attempts === 1)
  assert.is(slow.length, 4)
  assert.ok(slow.every((d) => d.lastError === 'timeout: no complete answer within 400 ms' && d.status === 'pending'))
})

work('an endpoint that is down costs a claim per tick, not per commit; a healthy one is served at each wake', async () => {
  const clock = createFakeClock()
  const fetch = (async (url: string | URL | Request) => {
    if (String(url).includes('/down')) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })
    return new Response(null, { status: 204 })
  }) as typeof globalThis.fetch
  const r = rig({ now: clock.now, timers: clock.timers, fetch })
  const claims: Record<string, number> = {}
  const claim = r.outbox.claim.bind(r.outbox)
  r.outbox.claim = (id, limit, at) => { claims[id] = (claims[id] ?? 0) + 1; return claim(id, limit, at) }
  await r.endpoint('DOWN', 'http://127.0.0.1:9/down')
  await r.endpoint('UP', 'http://127.0.0.1:9/up')
  await started(r)
  r.commit([vote('P0', clock.now())])
  await waitFor(async () => (await r.outbox.list({ endpointId: 'DOWN', limit: 1 }))[0]!.attempts === 1, 2000, 'first failure')
  const before = { ...claims }
  for (let i = 1; i <= 50; i++) {
    r.commit([vote(`P${i}`, clock.now())])
    await new Promise((resolve) => setImmediate(resolve))
  }
  await waitFor(async () => (await r.outbox.list({ endpointId: 'UP', status: 'delivered', limit: 100 })).length === 51, 2000, 'healthy endpoint served')
  assert.ok(claims.UP! - before.UP! >= 20, `healthy endpoint claimed ${claims.UP! - before.UP!} times`)
  assert.is(claims.DOWN, before.DOWN, 'no claim for the failing endpoint between ticks')
  await clock.advance(1000)
  assert.is(claims.DOWN, before.DOWN! + 1, 'one claim on the tick')
  assert.equal((await r.outbox.list({ endpointId: 'DOWN', limit: 100 })).filter((d) => d.attempts > 0).length, 5, 'the first, then 4 on the tick')
})

work('a delivery is never sent twice at once, however often the worker is woken', async () => {
  const open = new Map<string, number>()
  let maxSame = 0
  let inFlight = 0
  let maxInFlight = 0
  const rcv = await receiver((q, res) => {
    open.set(q.id, (open.get(q.id) ?? 0) + 1)
    maxSame = Math.max(maxSame, open.get(q.id)!)
    maxInFlight = Math.max(maxInFlight, ++inFlight)
    setTimeout(() => {
      open.set(q.id, open.get(q.id)! - 1)
      inFlight--
      res.writeHead(204).end()
    }, 30)
  })
  const r = rig({ pollMs: 5 })
  await r.endpoint('A', rcv.url)
  await started(r)
  const events = Array.from({ length: 40 }, (_, i) => vote(`P${i % 10}`))
  r.commit(events)
  const waker = setInterval(() => r.worker.wake(), 2)
  try {
    await waitFor(async () => rcv.requests.length >= 40 && Object.keys(await r.outbox.backlog()).length === 0, 8000, 'all delivered')
  } finally {
    clearInterval(waker)
  }
  assert.is(maxSame, 1, 'one request per delivery at a time')
  assert.is(rcv.requests.length, 40, 'each sent once')
  assert.ok(maxInFlight <= 4, `${maxInFlight} in flight at most`)
})

work('stop waits for requests in flight, and cuts them after its bound leaving them pending', async () => {
  const slow = await receiver((_q, res) => { setTimeout(() => res.writeHead(204).end(), 80) })
  const r1 = rig()
  await r1.endpoint('A', slow.url)
  await r1.worker.start()
  r1.commit([vote('P1')])
  await waitFor(() => slow.requests.length === 1, 2000, 'request')
  await r1.worker.stop()
  await r1.outbox.flush()
  assert.is((await r1.outbox.list({ limit: 1 }))[0]!.status, 'delivered', 'the answer was waited for')
  r1.db.close()

  const hung = await receiver(() => { /* never answers */ })
  const r2 = rig({ stopTimeoutMs: 100 })
  await r2.endpoint('A', hung.url)
  await r2.worker.start()
  r2.commit([vote('P1')])
  await waitFor(() => hung.requests.length === 1, 2000, 'request')
  const t = Date.now()
  await r2.worker.stop()
  assert.ok(Date.now() - t < 1000, 'bounded')
  await r2.outbox.flush()
  const [d] = await r2.outbox.list({ limit: 1 })
  assert.equal([d!.status, d!.attempts], ['pending', 0], 'cut short: not counted, sent again at the next start')
  r2.db.close()
})

work('endpoints added or removed while running are picked up at the next wake', async () => {
  const a = await receiver()
  const r = rig()
  await started(r)
  await r.endpoint('A', a.url)
  r.commit([vote('P1')])
  await waitFor(() => a.requests.length === 1, 2000, 'new endpoint served')
  await r.outbox.removeEndpoint('A')
  r.commit([vote('P1')])
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.is(a.requests.length, 1)
})

work('the tick retries without a wake, and prunes old settled deliveries', async () => {
  const clock = createFakeClock()
  const fetch = (async () => new Response(null, { status: 204 })) as typeof globalThis.fetch
  const r = rig({ now: clock.now, timers: clock.timers, fetch, pollMs: 60_000, keepMs: 2 * H, pruneEveryMs: H })
  await r.endpoint('A', 'http://127.0.0.1:9/hook')
  await started(r)
  tx(r.db, () => r.outbox.appendEvents([vote('P1', clock.now())]))
  await clock.advance(60_000)
  await r.outbox.flush()
  assert.is((await r.outbox.list({ limit: 1 }))[0]!.status, 'delivered', 'found by the tick')
  await clock.advance(3 * H)
  await r.outbox.flush()
  assert.equal(await r.outbox.list({ limit: 1 }), [], 'pruned after keepMs')
})

work.run()
