import type { Db } from './db.ts'
import { tx } from './db.ts'
import { appendNotifier, pollKey, renderVote, unpackVote, unstored, wants } from '../outbox-port.ts'
import type { AppendedEvent, ClaimedDelivery, Outbox, OutboxEvent, PollTexts, SettleOutcome } from '../outbox-port.ts'
import type { DeliveryQuery, DeliveryStatus, Endpoint, EndpointHealth, WebhookEventType } from '../../contract/webhooks.ts'
import { copyEndpoint, toClaimed, toDelivery, type ClaimRow, type DeliveryRow } from '../outbox-rows.ts'

/*
 * appendEvents runs inside the vote transaction, so what it writes is what every vote pays. It
 * writes ONE row per call (per vote batch): the events of the batch, as they are, in
 * `outbox_batch`. That row is durable with the votes; it is fanned out later, off the vote path
 * (a slice at a time by claims that come up short, see CLAIM_FAN_OUT; all of it before a read of
 * the deliveries; each batch in its own transaction), into one event row each
 * (rowid table, no secondary index: the webhook-id is unique by construction) and one delivery
 * row per endpoint, which enters one partial index holding pending rows only. Measured: a row per
 * event and per delivery in the vote transaction cost about 13 µs per vote; the batch row, 2 µs.
 * That index serves the claim (the oldest pending row of each order key of one endpoint) and the
 * backlog; delivered rows leave it, so it stays as small as the backlog. order_key is copied
 * into the delivery so the claim walks the index alone.
 * A poll.vote event is in the batch as its compact record (a quarter of the body's size, and no
 * body to build on the vote path), and stays one in its event row (`vote`, body ''): its body is
 * rendered when a delivery of it is claimed, from the record and the poll's row (poll_record, in
 * this file: question and options never change), as the PostgreSQL outbox does. The fan-out, on
 * the vote thread, only copies. Rendering there was a quarter of its cost (profile of a fan-out of
 * 22,600 events: renderVote 23%, and much of the 14% GC); a body is rendered per attempt now, a
 * few µs beside the request it goes with. A purge renders its account's records first (expand),
 * as it deletes their polls.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_endpoint (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT,
  account TEXT,
  source TEXT NOT NULL CHECK (source IN ('env', 'api')),
  created_at INTEGER NOT NULL,
  last_success_at INTEGER,
  last_failure_at INTEGER,
  last_error TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS outbox_event (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  type TEXT NOT NULL,
  order_key TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  vote TEXT
);
CREATE TABLE IF NOT EXISTS webhook_delivery (
  id INTEGER PRIMARY KEY,
  event_seq INTEGER NOT NULL,
  endpoint_id TEXT NOT NULL,
  order_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_error TEXT,
  last_status INTEGER,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_delivery_pending
  ON webhook_delivery (endpoint_id, order_key, id) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS outbox_batch (
  seq INTEGER PRIMARY KEY,
  events TEXT NOT NULL
);
`

// A batch row: events separated by RS (0x1e), fields by US (0x1f). An event with its body is
// `id, account, type, orderKey, createdAt, body`; a poll.vote record is `id, account, createdAt,
// record` (its type is poll.vote, its order key that of the poll the record names). An account
// or createdAt equal to the previous event's is left empty: a vote batch's events share both.
// Bodies and records are JSON, which never holds a raw control character, so neither separator
// can occur in one; plain concatenation costs a fraction of JSON.stringify re-escaping every
// body's quotes on the vote path. Rows written before records existed read the same.
function packEvents(events: readonly AppendedEvent[]): string {
  let account = ''
  let at = NaN
  return events.map((e) => {
    const a = e.account === account ? '' : (account = e.account)
    const t = e.createdAt === at ? '' : (at = e.createdAt)
    return 'vote' in e ? `${e.id}\x1f${a}\x1f${t}\x1f${e.vote}` : `${e.id}\x1f${a}\x1f${e.type}\x1f${e.orderKey}\x1f${t}\x1f${e.body}`
  }).join('\x1e')
}

/** A batched event: with its body, or (body '') with the record (packVote's text) its body is rendered from. */
type Batched = OutboxEvent & { vote: string | null }

/**
 * The poll a record names, its first element: `["<pollMsgId>",…`. Read off the text, not
 * parsed (the fan-out copies records, it does not need them); a message id never holds a quote
 * or a backslash, but should one, JSON.parse reads it right.
 */
function recordPoll(record: string): string {
  const end = record.indexOf('"', 2)
  const id = record.slice(2, end)
  return record.startsWith('["') && end > 2 && !id.includes('\\') && record[end + 1] === ',' ? id : unpackVote(record).pollMsgId
}

function unpackEvents(packed: string): Batched[] {
  let account = ''
  let at = 0
  return packed.split('\x1e').map((rec): Batched => {
    const f = rec.split('\x1f')
    if (f[1]) account = f[1]
    if (f.length === 4) {
      if (f[2]) at = Number(f[2])
      return { id: f[0]!, account, type: 'poll.vote', orderKey: pollKey(recordPoll(f[3]!)), createdAt: at, body: '', vote: f[3]! }
    }
    if (f[4]) at = Number(f[4])
    return { id: f[0]!, account, type: f[2] as OutboxEvent['type'], orderKey: f[3]!, createdAt: at, body: f[5]!, vote: null }
  })
}

const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.status, d.attempts, d.next_at, d.created_at, d.last_error,
  d.last_status, d.delivered_at, e.id AS event_id, e.type`

/**
 * The claim (?1 endpoint id, ?2 now, ?3 limit): the heads only, the oldest pending row of each
 * order key, found by a skip-scan of the pending index, one seek per order key. So a claim costs
 * O(keys × log rows) however long the backlog behind a dead endpoint grows (a NOT EXISTS check
 * of every pending row measured 45 ms at 100,000 rows; this, 2 ms at 1,000 keys, 0.1 ms at 50).
 * Exported for the test that reads its query plan.
 */
export const CLAIM_SQL = `WITH RECURSIVE k(key) AS (
      SELECT MIN(order_key) FROM webhook_delivery WHERE endpoint_id = ?1 AND status = 'pending'
      UNION ALL
      SELECT (SELECT MIN(order_key) FROM webhook_delivery WHERE endpoint_id = ?1 AND status = 'pending' AND order_key > k.key)
      FROM k WHERE k.key IS NOT NULL)
    SELECT ${DELIVERY_COLUMNS}, e.account, e.order_key, e.body, e.created_at AS event_created_at, e.vote
    FROM k JOIN webhook_delivery d ON d.id = (SELECT MIN(id) FROM webhook_delivery
        WHERE endpoint_id = ?1 AND status = 'pending' AND order_key = k.key)
      JOIN outbox_event e ON e.seq = d.event_seq
    WHERE k.key IS NOT NULL AND d.next_at <= ?2
    ORDER BY d.id LIMIT ?3`

interface EndpointRow {
  id: string; url: string; secret: string; events: string | null; account: string | null; source: 'env' | 'api'; created_at: number
}

export interface SqliteOutboxOptions {
  now?: () => number
  /** how long a claim holds a delivery that is never settled (a send cut short by a bug) */
  leaseMs?: number
  /** settled deliveries per prune transaction, so pruning never blocks the event loop for long */
  pruneChunk?: number
}

/** The SQLite outbox is also told when to finish its batched settles (before the store closes). */
export interface SqliteOutbox extends Outbox {
  /** commits settles still gathering */
  flush(): Promise<void>
  /** writes the event and delivery rows of the batches appended so far (what the first claim would do) */
  fanOut(): void
  /** fans out, then renders every poll.vote record still without its body: before a purge deletes the polls they name */
  expand(): void
}

/**
 * The webhook outbox over the synchronous libsql store. Claims are leased in memory, not in
 * the table: one process owns a DATA_DIR (pollwire.lock), so after a crash every pending row is
 * free again, and a claim costs no commit. Settles are gathered and committed together, one
 * fsync for all that finished in the same turn of the event loop.
 */
export function createSqliteOutbox(db: Db, { now = Date.now, leaseMs = 120_000, pruneChunk = 5000 }: SqliteOutboxOptions = {}): SqliteOutbox {
  db.exec(SCHEMA)

  // Multi-row inserts: one statement per up to 64 rows halves what appendEvents adds to a vote
  // transaction (measured: ~7 instead of ~14 µs per event), the per-call overhead being most of it.
  const insertEvents = chunkedInsert(db, 'INSERT INTO outbox_event (seq, id, account, type, order_key, body, created_at, vote) VALUES', '(?, ?, ?, ?, ?, ?, ?, ?)', 8)
  const insertDeliveries = chunkedInsert(db, 'INSERT INTO webhook_delivery (event_seq, endpoint_id, order_key, status, next_at, created_at) VALUES',
    "(?, ?, ?, 'pending', ?, ?)", 5)
  // Event seqs are given here, not by SQLite, so a batch's deliveries can name their events
  // without reading anything back. Only this object writes the table (one process per DATA_DIR);
  // a rolled-back batch leaves a gap, which is harmless: seqs only need to grow.
  let nextSeq = ((db.prepare('SELECT MAX(seq) AS seq FROM outbox_event').get() as { seq: number | null }).seq ?? 0) + 1
  const claimable = db.prepare(CLAIM_SQL)
  const delivered = db.prepare(`UPDATE webhook_delivery SET status = 'delivered', attempts = attempts + 1,
    delivered_at = ?, last_status = ? WHERE id = ? RETURNING endpoint_id`)
  const unsent = db.prepare(`UPDATE webhook_delivery SET status = ?, attempts = attempts + 1, next_at = COALESCE(?, next_at),
    last_error = ?, last_status = ? WHERE id = ? RETURNING endpoint_id`)
  const healthOk = db.prepare('UPDATE webhook_endpoint SET last_success_at = ?, consecutive_failures = 0 WHERE id = ?')
  const healthBad = db.prepare(`UPDATE webhook_endpoint SET last_failure_at = ?, last_error = ?,
    consecutive_failures = consecutive_failures + 1 WHERE id = ?`)
  const getOne = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery d JOIN outbox_event e ON e.seq = d.event_seq WHERE d.id = ?`)
  const retryOne = db.prepare(`UPDATE webhook_delivery SET status = 'pending', next_at = ? WHERE id = ?`)
  const insertEndpoint = db.prepare(`INSERT INTO webhook_endpoint (id, url, secret, events, account, source, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const deleteDeliveriesOf = db.prepare('DELETE FROM webhook_delivery WHERE endpoint_id = ?')
  const deleteEndpoint = db.prepare('DELETE FROM webhook_endpoint WHERE id = ?')
  const updateSecret = db.prepare('UPDATE webhook_endpoint SET secret = ? WHERE id = ?')
  const backlogAll = db.prepare(`SELECT endpoint_id, COUNT(*) AS n FROM webhook_delivery WHERE status = 'pending' GROUP BY endpoint_id`)
  const healthOf = db.prepare(`SELECT last_success_at, last_failure_at, last_error, consecutive_failures FROM webhook_endpoint WHERE id = ?`)
  const firstYoung = db.prepare('SELECT id FROM webhook_delivery WHERE created_at >= ? ORDER BY id LIMIT 1')
  const pruneSettled = db.prepare(`DELETE FROM webhook_delivery WHERE id IN (SELECT id FROM webhook_delivery
    WHERE id < ? AND status != 'pending' ORDER BY id LIMIT ?)`)
  const oldestReferenced = db.prepare('SELECT event_seq FROM webhook_delivery ORDER BY id LIMIT 1')
  const pruneEvents = db.prepare('DELETE FROM outbox_event WHERE seq < ?')
  const pruneAllEvents = db.prepare('DELETE FROM outbox_event')
  const listed = new Map<string, ReturnType<Db['prepare']>>()

  // The endpoint table is read on every appended event; it changes only through this object.
  const endpoints = new Map<string, { endpoint: Endpoint; secret: string }>()
  const appended = appendNotifier()
  for (const row of db.prepare('SELECT * FROM webhook_endpoint ORDER BY created_at, id').all() as EndpointRow[]) {
    endpoints.set(row.id, { endpoint: toEndpoint(row), secret: row.secret })
  }

  // The texts of the polls poll.vote records name, read once per claim or render (a poll's never change).
  let pollRow: ReturnType<Db['prepare']> | undefined
  const texts = new Map<string, PollTexts | null>()
  function textsOf(account: string, pollMsgId: string): PollTexts | null {
    const key = `${account}\x1f${pollMsgId}`
    let t = texts.get(key)
    if (t === undefined) {
      pollRow ??= db.prepare('SELECT question, options FROM poll_record WHERE id = ? AND account = ?')
      const row = pollRow.get([pollMsgId, account]) as { question: string; options: string } | undefined
      texts.set(key, (t = row ? { question: row.question, options: JSON.parse(row.options) as string[] } : null))
    }
    return t
  }
  /** A claimed row's body: its own, or rendered from its record; throws (unstored) when the record's poll is gone. */
  function bodyOf(r: ClaimRow): string {
    if (!r.vote) return r.body ?? ''
    const record = unpackVote(r.vote)
    const poll = textsOf(r.account, record.pollMsgId)
    if (!poll) throw new Error(unstored(record.pollMsgId, r.account))
    return renderVote({ account: r.account, createdAt: r.event_created_at }, record, poll)
  }
  const unrenderable = db.prepare(`UPDATE webhook_delivery SET status = 'failed', last_error = ? WHERE id = ?`)

  /**
   * One event row per event (a poll.vote one holding its record) and one delivery row per
   * endpoint that wants it: a fanned-out batch. Nothing is rendered here.
   */
  function expandEvents(events: Batched[]): void {
    const eventRows: unknown[] = []
    const deliveryRows: unknown[] = []
    for (const event of events) {
      let seq: number | undefined
      for (const { endpoint } of endpoints.values()) {
        if (!wants(endpoint, event)) continue
        if (seq === undefined) {
          seq = nextSeq++
          eventRows.push(seq, event.id, event.account, event.type, event.orderKey, event.body, event.createdAt, event.vote)
        }
        deliveryRows.push(seq, endpoint.id, event.orderKey, event.createdAt, event.createdAt)
      }
    }
    insertEvents(eventRows)
    insertDeliveries(deliveryRows)
  }

  const recordsLeft = db.prepare('SELECT seq, account, created_at, vote FROM outbox_event WHERE vote IS NOT NULL')
  const setBody = db.prepare('UPDATE outbox_event SET body = ?, vote = NULL WHERE seq = ?')
  /** Every record still without its body rendered into it (a record whose poll is gone stays, and fails when claimed). */
  function renderAll(): void {
    const rows = recordsLeft.all() as Array<{ seq: number; account: string; created_at: number; vote: string }>
    if (!rows.length) return
    try {
      tx(db, () => {
        for (const r of rows) {
          const record = unpackVote(r.vote)
          const poll = textsOf(r.account, record.pollMsgId)
          if (poll) setBody.run(renderVote({ account: r.account, createdAt: r.created_at }, record, poll), r.seq)
        }
      })
    } finally {
      texts.clear()
    }
  }

  const insertBatch = db.prepare('INSERT INTO outbox_batch (events) VALUES (?)')
  const batches = db.prepare('SELECT seq, events FROM outbox_batch ORDER BY seq LIMIT ?').raw()
  const batchSeqs = db.prepare('SELECT seq FROM outbox_batch').raw()
  const batchAt = db.prepare('SELECT events FROM outbox_batch WHERE seq = ?').raw()
  const dropBatch = db.prepare('DELETE FROM outbox_batch WHERE seq = ?')
  // Batches left by a previous run (a crash before their fan-out) are expanded on first use.
  let unexpanded = true

  /**
   * Each batch's deliveries per endpoint, counted once: backlog() (every /metrics scrape) reads
   * only the batches it has not seen. Kept for committed rows only (a rolled-back batch's seq
   * is given again); forgotten when the batch is fanned out or an endpoint comes or goes.
   */
  const counted = new Map<number, Record<string, number>>()

  /**
   * Turns appended batches into events and deliveries, in commit order, each batch in the
   * transaction that deletes it; stops once `budget` events are done (whole batches: at least one).
   */
  function fanOut(budget = Infinity): void {
    let done = 0
    while (unexpanded && done < budget) {
      const rows = batches.all(budget === Infinity ? 64 : 8) as Array<[number, string]>
      if (!rows.length) { unexpanded = false; break }
      tx(db, () => {
        for (const [seq, json] of rows) {
          if (done >= budget) break
          const events = unpackEvents(json)
          expandEvents(events)
          dropBatch.run([seq])
          counted.delete(seq)
          done += events.length
        }
      })
    }
  }


  /** Pending deliveries per endpoint still in batches (counted, not fanned out). */
  function batchedBacklog(out: Record<string, number>): void {
    if (!unexpanded) return
    for (const [seq] of batchSeqs.all() as Array<[number]>) {
      let per = counted.get(seq)
      if (!per) {
        per = {}
        const [packed] = batchAt.get([seq]) as [string]
        for (const event of unpackEvents(packed)) {
          for (const { endpoint } of endpoints.values()) if (wants(endpoint, event)) per[endpoint.id] = (per[endpoint.id] ?? 0) + 1
        }
        if (!db.inTransaction) counted.set(seq, per)
      }
      for (const id in per) out[id] = (out[id] ?? 0) + per[id]!
    }
  }

  const leases = new Map<string, { until: number; endpointId: string }>()
  type Waiter = { id: string; outcome: SettleOutcome; resolve: () => void; reject: (err: unknown) => void }
  let settling: Waiter[] = []
  let scheduled: Promise<void> | null = null

  function commitSettles(): void {
    const batch = settling
    settling = []
    try {
      tx(db, () => {
        for (const { id, outcome } of batch) {
          const status = outcome.httpStatus ?? null
          if (outcome.status === 'delivered') {
            const hit = delivered.get(outcome.at, status, Number(id)) as { endpoint_id: string } | undefined
            if (hit) healthOk.run(outcome.at, hit.endpoint_id)
          } else {
            const nextAt = outcome.status === 'retry' ? outcome.nextAt : null
            const state = outcome.status === 'retry' ? 'pending' : 'failed'
            const hit = unsent.get(state, nextAt, outcome.error, status, Number(id)) as { endpoint_id: string } | undefined
            if (hit) healthBad.run(outcome.at, outcome.error, hit.endpoint_id)
          }
        }
      })
    } catch (err) {
      // The leases stay: the rows are pending as far as the table knows, and are offered again
      // when the leases run out rather than at once to a store that is failing.
      for (const w of batch) w.reject(err)
      return
    }
    for (const w of batch) { leases.delete(w.id); w.resolve() }
  }

  function scheduleSettles(): Promise<void> {
    scheduled ??= new Promise<void>((resolve) => {
      const run = () => {
        // Never inside someone else's transaction: it could still roll back.
        if (db.inTransaction) { setTimeout(run, 1); return }
        scheduled = null
        commitSettles()
        resolve()
      }
      setImmediate(run)
    })
    return scheduled
  }


  /** Up to `limit` claimable deliveries of the endpoint among the fanned-out rows, leased. */
  function take(endpointId: string, limit: number, at: number): ClaimedDelivery[] {
    let held = 0
    for (const [id, lease] of leases) {
      if (lease.endpointId !== endpointId) continue
      if (lease.until <= at) leases.delete(id)
      else held++
    }
    const out: ClaimedDelivery[] = []
    try {
      for (const r of claimable.all(endpointId, at, limit + held) as ClaimRow[]) {
        const id = String(r.id)
        if (leases.has(id)) continue
        if (out.length >= limit) break
        let body: string
        // A record whose poll is gone (only a hand-edited file: a purge renders first) can never
        // be sent: failed, saying why, rather than stopping every later event of its poll.
        try { body = bodyOf(r) } catch (err) {
          unrenderable.run((err as Error).message, r.id)
          continue
        }
        leases.set(id, { until: at + leaseMs, endpointId })
        out.push(toClaimed({ ...r, body, vote: null }))
      }
    } finally {
      texts.clear()
    }
    return out
  }

  const listStatement = (status?: DeliveryStatus, endpointId?: string) => {
    const key = `${status ? 's' : ''}${endpointId ? 'e' : ''}`
    let stmt = listed.get(key)
    if (!stmt) {
      const where = [status ? 'd.status = @status' : '', endpointId ? 'd.endpoint_id = @endpointId' : ''].filter(Boolean)
      stmt = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery d JOIN outbox_event e ON e.seq = d.event_seq
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT @limit`)
      listed.set(key, stmt)
    }
    return stmt
  }

  const anyWants = (type: WebhookEventType, account: string) => {
    for (const { endpoint } of endpoints.values()) if (wants(endpoint, { type, account })) return true
    return false
  }
  // The common set-up, an endpoint for every event of every account, needs no filter per event.
  const takesAll = () => {
    for (const { endpoint } of endpoints.values()) if (endpoint.events === null && endpoint.account === null) return true
    return false
  }

  return {
    appendEvents(events) {
      // Outside a transaction the row would be its own commit, and the events would no longer
      // stand or fall with the vote that caused them.
      if (!db.inTransaction) throw new Error('appendEvents must run inside the transaction that commits what the events report')
      const wanted = takesAll() ? events : events.filter((e) => anyWants(e.type, e.account))
      if (!wanted.length) return
      insertBatch.run([packEvents(wanted)])
      unexpanded = true
      appended.notify()
    },

    wanted: anyWants,
    onAppend: (fn) => appended.on(fn),


    async claim(endpointId, limit, at) {
      if (limit <= 0) return []
      const out = take(endpointId, limit, at)
      // Only a claim that comes up short fans out, and a slice: see CLAIM_FAN_OUT.
      if (out.length < limit && unexpanded) {
        fanOut(CLAIM_FAN_OUT)
        out.push(...take(endpointId, limit - out.length, at))
        out.sort((a, b) => Number(a.id) - Number(b.id))
      }
      return out
    },

    settle(id, outcome) {
      return new Promise<void>((resolve, reject) => {
        settling.push({ id, outcome, resolve, reject })
        void scheduleSettles()
      })
    },

    async flush() {
      while (scheduled) await scheduled
    },

    fanOut,

    expand() {
      fanOut()
      renderAll()
    },

    async list({ status, endpointId, limit }: DeliveryQuery) {
      fanOut()
      const rows = listStatement(status, endpointId).all({ status, endpointId, limit }) as DeliveryRow[]
      return rows.map(toDelivery)
    },

    async get(id) {
      fanOut()
      if (!/^[0-9]{1,15}$/.test(id)) return undefined
      const row = getOne.get(Number(id)) as DeliveryRow | undefined
      return row && toDelivery(row)
    },

    async retry(id) {
      fanOut()
      if (!/^[0-9]{1,15}$/.test(id)) return false
      return retryOne.run(now(), Number(id)).changes > 0
    },

    async addEndpoint({ secret, ...ep }) {
      // What was appended before the endpoint existed is not for it.
      fanOut()
      const endpoint: Endpoint = { ...ep, events: ep.events && [...ep.events], createdAt: now() }
      insertEndpoint.run(ep.id, ep.url, secret, ep.events && JSON.stringify(ep.events), ep.account, ep.source, endpoint.createdAt)
      endpoints.set(ep.id, { endpoint, secret })
      counted.clear()
      return copyEndpoint(endpoint)
    },

    async removeEndpoint(id) {
      if (!endpoints.has(id)) return false
      tx(db, () => {
        deleteDeliveriesOf.run(id)
        deleteEndpoint.run(id)
      })
      endpoints.delete(id)
      counted.clear()
      for (const [key, lease] of leases) if (lease.endpointId === id) leases.delete(key)
      return true
    },

    async setSecret(id, secret) {
      const known = endpoints.get(id)
      if (!known) return false
      updateSecret.run(secret, id)
      known.secret = secret
      return true
    },

    async endpoints() {
      return [...endpoints.values()].map(({ endpoint }) => copyEndpoint(endpoint))
    },

    async secretOf(id) {
      return endpoints.get(id)?.secret
    },

    async backlog() {
      const out: Record<string, number> = {}
      for (const r of backlogAll.all() as { endpoint_id: string; n: number }[]) out[r.endpoint_id] = r.n
      batchedBacklog(out)
      return out
    },

    async health(endpointId): Promise<EndpointHealth | undefined> {
      const r = healthOf.get(endpointId) as
        { last_success_at: number | null; last_failure_at: number | null; last_error: string | null; consecutive_failures: number } | undefined
      return r && {
        lastSuccessAt: r.last_success_at, lastFailureAt: r.last_failure_at,
        lastError: r.last_error, consecutiveFailures: r.consecutive_failures,
      }
    },

    async prune(before) {
      // Rows are in creation order, so everything below the first young row is old; pending
      // rows among them stay.
      const bound = (firstYoung.get(before) as { id: number } | undefined)?.id ?? Number.MAX_SAFE_INTEGER
      let total = 0
      for (;;) {
        const n = tx(db, () => pruneSettled.run(bound, pruneChunk).changes)
        total += n
        if (n < pruneChunk) break
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      // Deliveries are written right after their event, so an event older than the oldest
      // remaining delivery's has none left.
      const oldest = (oldestReferenced.get() as { event_seq: number } | undefined)?.event_seq
      tx(db, () => (oldest === undefined ? pruneAllEvents.run() : pruneEvents.run(oldest)))
      return total
    },
  }
}

/**
 * Events a claim that comes up short fans out (whole batches, in commit order). Under a vote
 * flood the worker claims once per 2 s at most (it yields to the engine), so the flood pays a
 * slice of this size per claim rather than the fan-out of every event it appended; the rest is
 * fanned out as the deliveries go (a claim comes up short once what is fanned out is sent or
 * waits behind its key's head), or at once by what reads every delivery (list, get, retry,
 * addEndpoint, a purge). Its pending deliveries are counted by backlog() without fanning out.
 */
const CLAIM_FAN_OUT = 256

const CHUNKS = [64, 16, 4, 1]

/** An insert of `width` columns per row that runs `args` (rows laid end to end) in as few statements as it can. */
function chunkedInsert(db: Db, head: string, row: string, width: number): (args: unknown[]) => void {
  const statements = new Map<number, ReturnType<Db['prepare']>>()
  const statement = (rows: number) => {
    let stmt = statements.get(rows)
    if (!stmt) statements.set(rows, (stmt = db.prepare(`${head} ${Array(rows).fill(row).join(', ')}`)))
    return stmt
  }
  return (args) => {
    let at = 0
    for (const rows of CHUNKS) {
      while (args.length - at >= rows * width) {
        statement(rows).run(args.slice(at, at + rows * width))
        at += rows * width
      }
    }
  }
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id, url: row.url, events: row.events === null ? null : JSON.parse(row.events) as WebhookEventType[],
    account: row.account, source: row.source, createdAt: row.created_at,
  }
}

