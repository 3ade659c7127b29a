import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pollVoteRecord } from '../core/webhooks/events.ts'
import { withBody, type VoteEvent } from '../store/outbox-port.ts'
import { generateSecret } from '../core/webhooks/secret.ts'
import { createDeliveryWorker } from '../core/webhooks/worker.ts'
import { openDb, tx, type Db } from '../store/sqlite/db.ts'
import { createStoreHealth } from '../store/sqlite/health.ts'
import { createSqliteOutbox, type SqliteOutbox } from '../store/sqlite/outbox.ts'
import { migrate } from '../store/sqlite/schema.ts'
import { createSqliteJournal } from '../store/sqlite/votes.ts'
import { profiled } from './profile.ts'
import { cpuMsSince, type Row } from './table.ts'
import { createPolls, makeVotes, openEngine, removeDir, silent, tempDir, type BenchVote } from './votes.ts'

const EVENTS = 2000
const POLLS = 100
const ONE_POLL_EVENTS = 500
const CONCURRENCY = 4
const APPEND_BATCHES = 200
const BATCH = 100
const BACKLOG = 20_000

/**
 * 6. Webhooks: delivery throughput from a file store (WAL, synchronous=FULL) to one receiver on
 * 127.0.0.1 in this process, against plain fetch of the same bodies at the same concurrency
 * (no store, no signing); one poll's events, which go strictly one after another; what
 * appendEvents adds to a vote transaction; and a claim behind a dead endpoint's backlog.
 */
export async function benchDelivery(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const { server, url } = await receiver()
  const dir = tempDir('webhooks')
  try {
    const rows: Row[] = []
    await deliver(dir, url, 200, 20, 'warm') // JIT warm-up, not counted
    const plain = await plainFetch(url, events(EVENTS, POLLS).map(withBody))
    const spread = await deliver(dir, url, EVENTS, POLLS, 'spread')
    const onePoll = await deliver(dir, url, ONE_POLL_EVENTS, 1, 'one-poll')
    log(`  plain fetch ${Math.round(plain)}/s; worker ${Math.round(spread)}/s over ${POLLS} polls, ${Math.round(onePoll)}/s on one poll`)
    rows.push({
      section: '6. webhooks', measure: `delivery to one receiver on 127.0.0.1 (${EVENTS.toLocaleString('en')} events, ${POLLS} polls, ${CONCURRENCY} in flight, file store)`,
      value: spread, unit: 'events/s', baseline: `plain fetch, ${CONCURRENCY} in flight, no store, no signing`, baselineValue: plain,
      ratio: spread / plain, target: '≥ 1,000/s', pass: spread >= 1000,
    }, {
      section: '6. webhooks', measure: `delivery of one poll's ${ONE_POLL_EVENTS} events (in commit order, one at a time)`,
      value: onePoll, unit: 'events/s', baseline: `${POLLS} polls`, baselineValue: spread,
      ratio: onePoll / spread, target: '—', pass: null,
    })
    rows.push(appendCost(dir, log))
    rows.push(await claimBehindBacklog(dir, log))
    return { rows }
  } finally {
    await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
    removeDir(dir)
  }
}

const COLOURS = { question: 'Colour?', options: ['Red', 'Blue'] }
const BENCH_POLLS = 1000

/** poll.vote events as the vote path writes them: records of polls BENCH0… (stored by openOutbox). */
function events(n: number, polls: number): VoteEvent[] {
  const at = Date.now()
  return Array.from({ length: n }, (_, i) => pollVoteRecord({
    account: 'default', pollMsgId: `BENCH${i % polls}`, voter: `1555${String(i).padStart(7, '0')}@s.whatsapp.net`,
    selected: [0], previous: null, senderTimestampMs: at, counts: [i, 0], poll: COLOURS,
  }, at))
}

async function receiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { res.writeHead(204).end() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }
}

/** A store file with the bench's polls, and its outbox (which renders poll.vote bodies from those polls). */
function openOutbox(dir: string, file: string): { db: Db; outbox: SqliteOutbox } {
  const db = openDb(dir, `${file}.db`)
  migrate(db)
  void createSqliteJournal(db, 'default', createStoreHealth({ db, log: silent })).commit({
    polls: Array.from({ length: BENCH_POLLS }, (_, i) => ({ id: `BENCH${i}`, chatId: '120363000000000001@g.us', ...COLOURS,
      hashes: ['00', '01'], selectableCount: 1, secret: new Uint8Array(32), timestamp: 0, status: 'sent' as const })),
  })
  return { db, outbox: createSqliteOutbox(db) }
}

/** Appends `n` events in transactions of 100 (as the vote path would), then times the worker until all are delivered. */
async function deliver(dir: string, url: string, n: number, polls: number, file: string): Promise<number> {
  const { db, outbox } = openOutbox(dir, file)
  await outbox.addEndpoint({ id: 'bench', url, events: null, account: null, source: 'api', secret: generateSecret() })
  const all = events(n, polls)
  for (let i = 0; i < all.length; i += BATCH) tx(db, () => outbox.appendEvents(all.slice(i, i + BATCH)))
  let delivered = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => { done = resolve })
  const worker = createDeliveryWorker({
    outbox, log: silent, concurrency: CONCURRENCY,
    metrics: { delivery: (outcome) => { if (outcome === 'delivered' && ++delivered === n) done() } },
  })
  const t = performance.now()
  await worker.start()
  await finished
  const rate = n / ((performance.now() - t) / 1000)
  await worker.stop()
  await outbox.flush()
  const left = await outbox.backlog()
  db.close()
  if (Object.keys(left).length) throw new Error(`webhook bench: ${JSON.stringify(left)} still pending`)
  return rate
}

async function plainFetch(url: string, list: Array<{ body: string }>): Promise<number> {
  let next = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < list.length) {
      const e = list[next++]!
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: e.body })
      await res.arrayBuffer()
      if (res.status !== 204) throw new Error(`webhook bench: receiver answered ${res.status}`)
    }
  }))
  return list.length / ((performance.now() - t) / 1000)
}

/**
 * What the vote path pays: transactions of 100 vote-sized rows, with and without appendEvents
 * of 100 poll.vote records (what the engine writes) to one endpoint; between transactions the deliveries are marked delivered, as a
 * healthy endpoint keeps its pending index small (not timed).
 */
function appendCost(dir: string, log: (s: string) => void): Row {
  const { db, outbox } = openOutbox(dir, 'append')
  void outbox.addEndpoint({ id: 'bench', url: 'http://127.0.0.1:9/', events: null, account: null, source: 'api', secret: generateSecret() })
  db.exec('CREATE TABLE bench_vote (seq INTEGER PRIMARY KEY, poll TEXT NOT NULL, voter TEXT NOT NULL, payload BLOB NOT NULL)')
  const put = db.prepare('INSERT INTO bench_vote (poll, voter, payload) VALUES (?, ?, ?)')
  const deliveredAll = db.prepare(`UPDATE webhook_delivery SET status = 'delivered' WHERE status = 'pending'`)
  const payload = Buffer.alloc(120, 7)
  const all = events(APPEND_BATCHES * BATCH, 1000)
  const run = (withEvents: boolean) => {
    let ms = 0
    for (let b = 0; b < APPEND_BATCHES; b++) {
      const batch = all.slice(b * BATCH, (b + 1) * BATCH)
      const t = performance.now()
      tx(db, () => {
        for (const e of batch) put.run(e.orderKey, e.id, payload)
        if (withEvents) outbox.appendEvents(batch)
      })
      ms += performance.now() - t
      tx(db, () => deliveredAll.run())
    }
    return (ms * 1000) / (APPEND_BATCHES * BATCH)
  }
  run(false); run(true) // warm-up
  const bare = Math.min(run(false), run(false))
  const withEvents = Math.min(run(true), run(true))
  db.close()
  log(`  vote transactions of ${BATCH}: ${bare.toFixed(1)} µs/vote bare, ${withEvents.toFixed(1)} µs/vote with appendEvents`)
  return {
    section: '6. webhooks', measure: `vote transaction of ${BATCH} rows + appendEvents of ${BATCH} poll.vote records (1 endpoint, synchronous=FULL)`,
    value: withEvents, unit: 'µs/vote', baseline: 'the same transactions without events', baselineValue: bare,
    ratio: withEvents / bare, target: '≤ 10 µs per event added (the engine spends ~100 µs per vote)', pass: withEvents - bare <= 10,
    note: `${(withEvents - bare).toFixed(1)} µs per event`,
  }
}

/** A claim when a dead endpoint has a day's backlog: every pending row of the endpoint is looked at. */
async function claimBehindBacklog(dir: string, log: (s: string) => void): Promise<Row> {
  const { db, outbox } = openOutbox(dir, 'backlog')
  await outbox.addEndpoint({ id: 'dead', url: 'http://127.0.0.1:9/', events: null, account: null, source: 'api', secret: generateSecret() })
  const time = async (claims: number) => {
    const t = performance.now()
    for (let i = 0; i < claims; i++) {
      const got = await outbox.claim('dead', 4, Date.now())
      for (const d of got) void outbox.settle(d.id, { status: 'retry', at: Date.now(), nextAt: Date.now() + 3_600_000, error: 'down' })
      await outbox.flush()
    }
    return (performance.now() - t) / claims
  }
  const all = events(BACKLOG, 1000)
  // A backlog builds up over hours, each batch fanned out soon after its commit: the fan-out is
  // done before timing, so the claims alone (rendering the bodies they claim) are timed.
  tx(db, () => outbox.appendEvents(all.slice(0, 100)))
  outbox.fanOut()
  const small = await time(30)
  for (let i = 100; i < all.length; i += 1000) tx(db, () => outbox.appendEvents(all.slice(i, i + 1000)))
  outbox.fanOut()
  const large = await time(30)
  db.close()
  log(`  claim: ${small.toFixed(2)} ms with 100 pending, ${large.toFixed(2)} ms with ${BACKLOG.toLocaleString('en')} pending`)
  return {
    section: '6. webhooks', measure: `claim (+ settle) behind a dead endpoint's backlog of ${BACKLOG.toLocaleString('en')} (1,000 polls)`,
    value: large, unit: 'ms', baseline: '100 pending', baselineValue: small,
    ratio: large / small, target: '≤ 10 ms', pass: large <= 10,
  }
}

const INGEST_POLLS = 200
const INGEST_VOTERS = 100
/** votes per slice: the two engines take turns slice by slice */
const SLICE = 2400

type Side = { name: 'without' | 'with'; b: Awaited<ReturnType<typeof openEngine>>; outbox?: SqliteOutbox; votes: BenchVote[]; ms: number; cpuMs: number; mainMs: number; claimMs: number }

/**
 * Vote ingest with one webhook endpoint attached against the same ingest without any: what
 * writing each vote's event in its transaction costs the vote path, and what the worker's claims
 * during the flood (on the same thread: each fans out a slice of the batches when it comes up
 * short, and renders the bodies it claims) cost besides.
 *
 * Interleaved: two engines, each on its own file store with its own 200 polls, take the same
 * flood (24,000 votes) in turns of 2,400, the order within each turn alternating; each side's
 * time is the sum of its turns. Before, the two ran one after the other as whole floods of 1–2 s,
 * and the machine's other work moved single runs by ±20% (0.69–1.33× between pairs of one run),
 * more than the 10% being measured; interleaved, both sides see the same machine.
 * The endpoint's worker does not run during the turns: the polls' own poll.sent events are
 * delivered before (up to 200 of them used to be sent and settled in the first part of the timed
 * flood: setup traffic counted as ingest), and the flood's events after, untimed, to the receiver
 * in another process (delivery has its own row; only the warm-up's are sent). Right after each turn of
 * the endpoint's side one claim of 4 is timed, as the worker makes it (which under a flood it
 * does once per 2 s at most: it yields to the engine), its deliveries then settled as delivered,
 * untimed. What the claims left batched is fanned out after the flood, timed apart (the note).
 */
export async function benchIngestWithWebhook(log: (s: string) => void): Promise<{ rows: Row[] }> {
  // The receiver is another process, as a user's is: its own work is not the vote path's cost.
  const { child, url } = await receiverProcess()
  const dirs = [tempDir('webhook-ingest'), tempDir('webhook-ingest')]
  try {
    await interleaved(dirs, url, () => {}, 20) // JIT warm-up (its events are delivered: the endpoint works), not counted
    const runs = [await interleaved(dirs, url, log, INGEST_POLLS), await interleaved(dirs, url, log, INGEST_POLLS)]
    const turns = runs.flatMap((r) => r.turns)
    // The median turn: a turn that met a stall of the machine (an fsync that waited on others'
    // I/O, a full GC) moves the sums by more than the cost measured, whichever side it hit.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const ratio = median(turns.map((t) => t.without / t.with))
    const sustained = median(turns.map((t) => t.without / (t.with + t.claim)))
    const sum = (f: (t: Turn) => number) => turns.reduce((n, t) => n + f(t), 0)
    const votes = runs.reduce((n, r) => n + r.votes, 0)
    const rate = (ms: number) => votes / (ms / 1000)
    const events = runs.reduce((n, r) => n + r.events, 0)
    const claimMs = sum((t) => t.claim) / turns.length
    const restUs = (runs.reduce((n, r) => n + r.restMs, 0) * 1000) / events
    const fannedDuring = runs.reduce((n, r) => n + r.fannedDuring, 0) / events
    const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`
    const sums = runs.map((r) => (r.turns.reduce((n, t) => n + t.without, 0) / r.turns.reduce((n, t) => n + t.with, 0)).toFixed(2)).join(', ')
    // Process CPU counts GC helper threads and libsql's; the main thread's alone is what the vote path waits for.
    const cpu = `process CPU ${runs.map((r) => r.cpu.toFixed(2)).join(', ')}, main thread ${runs.map((r) => (Number.isNaN(r.main) ? '–' : r.main.toFixed(2))).join(', ')}`
    log(`  median turn ${ratio.toFixed(3)}× (turns ${spread(turns.map((t) => t.without / t.with))}; whole runs ${sums}; ${cpu}); a claim per turn ${claimMs.toFixed(2)} ms, with it ${sustained.toFixed(3)}×; fan-out after the flood ${restUs.toFixed(1)} µs/event`)
    return { rows: [{
      section: '6. webhooks', measure: `vote ingest with one webhook endpoint attached (${(votes / runs.length).toLocaleString('en')} votes twice, each vote's event written in its transaction; turns of ${SLICE.toLocaleString('en')} interleaved with the same ingest without; median turn)`,
      value: rate(sum((t) => t.with)), unit: 'votes/s', baseline: 'the same ingest, no endpoint (same turns)', baselineValue: rate(sum((t) => t.without)),
      ratio, target: '≥ 0.9× (the outbox costs ≤ 10%)', pass: ratio >= 0.9,
      note: `${turns.length} turns ${spread(turns.map((t) => t.without / t.with))}; whole runs ${sums}; ${cpu}`,
    }, {
      section: '6. webhooks', measure: 'the same, counting a claim of 4 after each turn (the worker claims once per 2 s under a flood; a claim that comes up short fans out a slice of 256 events, and renders the bodies it claims)',
      value: rate(sum((t) => t.with + t.claim)), unit: 'votes/s', baseline: 'the same ingest, no endpoint (same turns)', baselineValue: rate(sum((t) => t.without)),
      ratio: sustained, target: '≥ 0.9× (the outbox costs ≤ 10%)', pass: sustained >= 0.9,
      note: `a claim ${claimMs.toFixed(2)} ms on average; ${(fannedDuring * 100).toFixed(0)}% of the events fanned out during the flood, the rest after it at ${restUs.toFixed(1)} µs/event`,
    }] }
  } finally {
    child.kill()
    for (const d of dirs) removeDir(d)
  }
}

/** One turn: each side's time for the same slice (ms), and the claim made after the endpoint side's. */
interface Turn { without: number; with: number; claim: number }

/** One interleaved run on fresh stores in `dirs`: its turns, its votes per side, the events written, and CPU without ÷ with. */
async function interleaved(dirs: string[], url: string, log: (s: string) => void, pollCount: number): Promise<{ turns: Turn[]; votes: number; events: number; cpu: number; main: number; restMs: number; fannedDuring: number }> {
  const sides: Side[] = []
  for (const [i, name] of (['without', 'with'] as const).entries()) {
    const dir = `${dirs[i]}/${Date.now()}`
    const b = await openEngine(dir, name === 'with' ? (db) => createSqliteOutbox(db) : undefined)
    const outbox = b.outbox as SqliteOutbox | undefined
    if (outbox) await outbox.addEndpoint({ id: 'ep_bench', url, events: null, account: null, source: 'api', secret: generateSecret() })
    const polls = await createPolls(b, pollCount)
    sides.push({ name, b, outbox, votes: makeVotes(polls, INGEST_VOTERS, { replace: 10, retract: 5, dup: 5 }, 1), ms: 0, cpuMs: 0, mainMs: 0, claimMs: 0 })
  }
  const [without, withEp] = sides as [Side, Side]
  // The polls' poll.sent events: delivered before the flood, so no setup traffic is timed.
  await deliverAll(withEp)
  const turns: Turn[] = []
  let settledHere = 0
  for (let at = 0, n = 0; at < without.votes.length; at += SLICE, n++) {
    const turn: Turn = { without: 0, with: 0, claim: 0 }
    for (const side of n % 2 ? [withEp, without] : [without, withEp]) {
      const slice = side.votes.slice(at, at + SLICE)
      const cpu = process.cpuUsage()
      const main = mainThreadMs()
      const t = performance.now()
      await profiled(`ingest-webhook-${side.name}`, () => Promise.all(slice.map((v) => side.b.engine.ingestVote(v.raw))))
      const ms = performance.now() - t
      side.ms += ms
      side.cpuMs += cpuMsSince(cpu)
      side.mainMs += mainThreadMs() - main
      turn[side.name] = ms
      if (side.outbox) {
        const f = performance.now()
        const claimed = await side.outbox.claim('ep_bench', CONCURRENCY, Date.now())
        turn.claim = performance.now() - f
        side.claimMs += turn.claim
        for (const d of claimed) void side.outbox.settle(d.id, { status: 'delivered', at: Date.now() })
        settledHere += claimed.length
        await side.outbox.flush()
      }
    }
    turns.push(turn)
  }
  const count = () => (withEp.b.db.prepare("SELECT count(*) FROM outbox_event WHERE type = 'poll.vote'").raw(true).get() as [number])[0]
  const fannedDuring = count()
  const r = performance.now()
  withEp.outbox!.fanOut()
  const restMs = performance.now() - r
  const events = count()
  if (events < withEp.votes.length * 0.8) throw new Error(`only ${events} events for ${withEp.votes.length} votes`)
  // Delivering 20,000 events takes about 15 s and has its own row: only the warm-up's are sent.
  if (pollCount < INGEST_POLLS) {
    const delivered = await deliverAll(withEp)
    if (delivered + settledHere < events) throw new Error(`only ${delivered} (+ ${settledHere} claimed by the turns) of ${events} events delivered`)
  }
  for (const side of sides) {
    await side.b.engine.close()
    await side.outbox?.flush()
    side.b.db.close()
  }
  log(`    without ${Math.round(without.ms)} ms, with ${Math.round(withEp.ms)} ms + claims ${Math.round(withEp.claimMs)} ms for ${withEp.votes.length} votes (fan-out after: ${Math.round(restMs)} ms); turns ${turns.map((t) => (t.without / t.with).toFixed(2)).join(' ')}`)
  return { turns, votes: without.votes.length, events, cpu: without.cpuMs / withEp.cpuMs, main: without.mainMs / withEp.mainMs, restMs, fannedDuring }
}

/** CPU time of the calling (main) thread so far, in ms, from Linux's /proc/thread-self/schedstat; NaN elsewhere. */
function mainThreadMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}

/** Runs the delivery worker until everything appended so far is delivered and settled; returns how many it delivered. */
async function deliverAll(side: Side): Promise<number> {
  const outbox = side.outbox!
  let delivered = 0
  const worker = createDeliveryWorker({ outbox, log: silent, metrics: { delivery: (o) => { if (o === 'delivered') delivered++ } } })
  await worker.start()
  const until = Date.now() + 60_000
  while (Object.keys(await outbox.backlog()).length) {
    if (Date.now() > until) throw new Error('webhook bench: deliveries still pending after 60 s')
    worker.wake()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await worker.stop()
  await outbox.flush()
  return delivered
}

/** A receiver in a child process on 127.0.0.1 answering 204 to everything. */
async function receiverProcess(): Promise<{ child: ChildProcess; url: string }> {
  const code = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(204).end()) });
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (c) => reject(new Error(`receiver exited with ${c}`)))
  })
  return { child, url: `http://127.0.0.1:${port}/hook` }
}

