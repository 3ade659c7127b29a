import { appendNotifier, renderVote, unpackVote, wants } from '../outbox-port.ts'
import type { AppendedEvent, ClaimedDelivery, Outbox, SettleOutcome } from '../outbox-port.ts'
import type { Endpoint, EndpointHealth, WebhookEventType } from '../../contract/webhooks.ts'
import { rows, tx, type Pool, type PoolClient } from './db.ts'
import { LOCK_SPACE_ORDER_KEY } from './schema.ts'
import { copyEndpoint, toClaimed, toDelivery, type ClaimRow, type DeliveryRow } from '../outbox-rows.ts'

/*
 * The webhook outbox in PostgreSQL (tables in schema.ts), shared by every process on the
 * database:
 * - appendEventsIn(client, events) writes inside the caller's transaction (the journal's
 *   commit): events and one pending delivery per endpoint whose filters match, fanned out in SQL
 *   against the endpoint table itself, so an endpoint another process added or removed counts.
 *   It first takes a transaction-scoped advisory lock per order key, so deliveries of one order
 *   key get their ids in commit order, which is the order the claim sends them in.
 * - claim() takes the head of each order key (the oldest pending delivery of that key for the
 *   endpoint), keeps those due and not leased, and leases them with `claimed_until` under
 *   FOR UPDATE SKIP LOCKED: two processes claiming at once get different deliveries, and a
 *   lease that runs out (a process died mid-send) frees the delivery for anyone.
 * - A poll.vote event is stored as its compact record (`vote`, schema.ts migration 4; `body`
 *   NULL): the claim reads its poll's question and options (poll_record: they never change)
 *   and renders the body (store/outbox-port.ts renderVote), the same bytes on every claim, in
 *   any process. A purge renders the account's records first (materializeIn), as it deletes
 *   their polls.
 */

const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.status, d.attempts, d.next_at, d.created_at, d.last_error,
  d.last_status, d.delivered_at, e.id AS event_id, e.type`

interface EndpointRow {
  id: string; url: string; secret: string; events: WebhookEventType[] | null; account: string | null; source: 'env' | 'api'; created_at: number
}

export interface PgOutboxOptions {
  now?: () => number
  /**
   * How long a claim holds a delivery that is never settled (a send cut short by a crash), 30 s
   * by default: the worker claims only what it sends at once, each send gives up after 10 s,
   * so a live process settles well within it, and a dead one's deliveries (and every later
   * event of the same poll, which waits for them) are free again half a minute later.
   */
  leaseMs?: number
  /** settled deliveries per prune statement */
  pruneChunk?: number
}

export interface PgOutbox extends Outbox {
  /**
   * appendEvents for PostgreSQL: writes inside the caller's open transaction on `client`;
   * returns how many deliveries it wrote. Call appended() once that transaction committed.
   */
  appendEventsIn(client: PoolClient, events: AppendedEvent[]): Promise<number>
  /** Renders the bodies of `account`'s poll.vote records, inside the caller's transaction: before its polls are deleted. */
  materializeIn(client: PoolClient, account: string): Promise<void>
  /** wakes the onAppend listeners: the transaction that appended committed */
  appended(): void
  /** re-reads the endpoints (another process may have changed them) */
  reload(): Promise<void>
  /** nothing is gathered here (each settle is its own statement); for the store's close */
  flush(): Promise<void>
}

const ID = /^[0-9]{1,15}$/

/** The outbox in `schema` over `pool`; reads the endpoints once before it is handed out. */
export async function createPgOutbox(pool: Pool, schema: string, { now = Date.now, leaseMs = 30_000, pruneChunk = 5000 }: PgOutboxOptions = {}): Promise<PgOutbox> {
  const D = `"${schema}".webhook_delivery`
  const E = `"${schema}".outbox_event`
  const EP = `"${schema}".webhook_endpoint`
  const P = `"${schema}".poll_record`

  // Which endpoints exist, for wanted() (synchronous: the engine asks before building an event).
  // Only a hint: appendEventsIn matches against the table.
  let cached: Array<{ endpoint: Endpoint; secret: string }> = []
  const appended = appendNotifier()
  async function reload(): Promise<EndpointRow[]> {
    const list = await rows<EndpointRow>(pool, `SELECT * FROM ${EP} ORDER BY created_at, id`)
    cached = list.map((r) => ({ endpoint: toEndpoint(r), secret: r.secret }))
    return list
  }
  await reload()

  const APPEND_SQL = `WITH ev AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
        WITH ORDINALITY AS e(id, account, type, order_key, body, created_at, vote, ord)
    ), t AS (
      SELECT ev.ord, ep.id AS endpoint_id FROM ev JOIN ${EP} ep
        ON (ep.events IS NULL OR ev.type = ANY (ep.events)) AND (ep.account IS NULL OR ep.account = ev.account)
    ), ins AS (
      INSERT INTO ${E} (id, account, type, order_key, body, created_at, vote)
      SELECT id, account, type, order_key, body, created_at, vote FROM ev WHERE ev.ord IN (SELECT ord FROM t) ORDER BY ev.ord
      RETURNING seq, id
    )
    INSERT INTO ${D} (event_seq, endpoint_id, order_key, status, next_at, created_at)
    SELECT ins.seq, t.endpoint_id, ev.order_key, 'pending', ev.created_at, ev.created_at
    FROM t JOIN ev ON ev.ord = t.ord JOIN ins ON ins.id = ev.id
    ORDER BY t.ord, t.endpoint_id`

  // The heads by a skip-scan of the pending index (one seek per order key, as SQLite's claim),
  // then the due and unleased among them, locked (skipping rows another claim holds), leased.
  // The conditions are checked on d itself: under FOR UPDATE they are re-read from the newest
  // version of a row another process changed since this statement's snapshot.
  const CLAIM_SQL = `WITH RECURSIVE k(key) AS (
      SELECT min(order_key) FROM ${D} WHERE endpoint_id = $1 AND status = 'pending'
      UNION ALL
      SELECT (SELECT min(order_key) FROM ${D} WHERE endpoint_id = $1 AND status = 'pending' AND order_key > k.key)
      FROM k WHERE k.key IS NOT NULL
    ), heads AS (
      SELECT (SELECT id FROM ${D} WHERE endpoint_id = $1 AND status = 'pending' AND order_key = k.key ORDER BY id LIMIT 1) AS id
      FROM k WHERE k.key IS NOT NULL
    ), picked AS (
      SELECT d.id FROM ${D} d
      WHERE d.id IN (SELECT id FROM heads) AND d.endpoint_id = $1 AND d.status = 'pending' AND d.next_at <= $2
        AND (d.claimed_until IS NULL OR d.claimed_until <= $2)
      ORDER BY d.id LIMIT $3
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE ${D} d SET claimed_until = $2::bigint + $4::bigint
    FROM picked p, ${E} e LEFT JOIN ${P} pr ON e.vote IS NOT NULL AND pr.account = e.account AND pr.id = (e.vote::json ->> 0)
    WHERE d.id = p.id AND e.seq = d.event_seq
    RETURNING ${DELIVERY_COLUMNS}, e.account, e.order_key, e.body, e.created_at AS event_created_at, e.vote, pr.question, pr.options`


  return {
    appendEvents() {
      throw new Error('the PostgreSQL outbox writes events in the transaction of what they report: pass them to VoteJournal.commit({ events })')
    },

    async appendEventsIn(client, events) {
      if (!events.length) return 0
      const keys = [...new Set(events.map((e) => e.orderKey))]
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK_SPACE_ORDER_KEY}, k)
        FROM (SELECT DISTINCT hashtext(key) AS k FROM unnest($1::text[]) AS key ORDER BY 1) AS s`, [keys])
      const res = await client.query(APPEND_SQL, [
        events.map((e) => e.id), events.map((e) => e.account), events.map((e) => e.type),
        events.map((e) => e.orderKey), events.map((e) => ('vote' in e ? null : e.body)), events.map((e) => e.createdAt),
        events.map((e) => ('vote' in e ? e.vote : null)),
      ])
      return res.rowCount ?? 0
    },

    async materializeIn(client, account) {
      const { rows: got } = await client.query<{ seq: number; vote: string; created_at: number; question: string; options: string[] }>(
        `SELECT e.seq, e.vote, e.created_at, pr.question, pr.options FROM ${E} e
          JOIN ${P} pr ON pr.account = e.account AND pr.id = (e.vote::json ->> 0)
         WHERE e.account = $1 AND e.vote IS NOT NULL`, [account])
      if (!got.length) return
      const bodies = got.map((r) => renderVote({ account, createdAt: r.created_at }, unpackVote(r.vote), r))
      await client.query(`UPDATE ${E} e SET body = u.body, vote = NULL FROM unnest($1::bigint[], $2::text[]) AS u(seq, body)
        WHERE e.seq = u.seq`, [got.map((r) => r.seq), bodies])
    },

    appended() { appended.notify() },

    wanted(type, account) {
      for (const { endpoint } of cached) if (wants(endpoint, { type, account })) return true
      return false
    },
    onAppend: (fn) => appended.on(fn),

    async claim(endpointId, limit, at) {
      if (limit <= 0) return []
      const got = await rows<ClaimRow>(pool, CLAIM_SQL, [endpointId, at, limit, leaseMs])
      const out: ClaimedDelivery[] = []
      for (const r of got.sort((a, b) => a.id - b.id)) {
        // A record whose poll is gone (only a hand-edited database: a purge renders first) can
        // never be sent: failed, saying why, rather than offered again and again.
        try { out.push(toClaimed(r)) } catch (err) {
          await pool.query(`UPDATE ${D} SET status = 'failed', last_error = $2, claimed_until = NULL WHERE id = $1`, [r.id, (err as Error).message])
        }
      }
      return out
    },

    async settle(id, outcome: SettleOutcome) {
      if (!ID.test(id)) return
      const status = outcome.httpStatus ?? null
      if (outcome.status === 'delivered') {
        await pool.query(`WITH d AS (UPDATE ${D} SET status = 'delivered', attempts = attempts + 1, delivered_at = $2,
            last_status = $3, claimed_until = NULL WHERE id = $1 RETURNING endpoint_id)
          UPDATE ${EP} SET last_success_at = $2, consecutive_failures = 0 WHERE id IN (SELECT endpoint_id FROM d)`,
        [Number(id), outcome.at, status])
        return
      }
      const nextAt = outcome.status === 'retry' ? outcome.nextAt : null
      await pool.query(`WITH d AS (UPDATE ${D} SET status = $2, attempts = attempts + 1, next_at = COALESCE($3, next_at),
          last_error = $4, last_status = $5, claimed_until = NULL WHERE id = $1 RETURNING endpoint_id)
        UPDATE ${EP} SET last_failure_at = $6, last_error = $4, consecutive_failures = consecutive_failures + 1
        WHERE id IN (SELECT endpoint_id FROM d)`,
      [Number(id), outcome.status === 'retry' ? 'pending' : 'failed', nextAt, outcome.error, status, outcome.at])
    },

    async flush() {},

    async reload() { await reload() },

    async list({ status, endpointId, limit }) {
      const where: string[] = []
      const values: unknown[] = [limit]
      if (status) { values.push(status); where.push(`d.status = $${values.length}`) }
      if (endpointId) { values.push(endpointId); where.push(`d.endpoint_id = $${values.length}`) }
      const got = await rows<DeliveryRow>(pool, `SELECT ${DELIVERY_COLUMNS} FROM ${D} d JOIN ${E} e ON e.seq = d.event_seq
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT $1`, values)
      return got.map(toDelivery)
    },

    async get(id) {
      if (!ID.test(id)) return undefined
      const [row] = await rows<DeliveryRow>(pool, `SELECT ${DELIVERY_COLUMNS} FROM ${D} d JOIN ${E} e ON e.seq = d.event_seq WHERE d.id = $1`, [Number(id)])
      return row && toDelivery(row)
    },

    async retry(id) {
      if (!ID.test(id)) return false
      const res = await pool.query(`UPDATE ${D} SET status = 'pending', next_at = $2, claimed_until = NULL WHERE id = $1`, [Number(id), now()])
      return (res.rowCount ?? 0) > 0
    },

    async addEndpoint({ secret, ...ep }) {
      const endpoint: Endpoint = { ...ep, events: ep.events && [...ep.events], createdAt: now() }
      await pool.query(`INSERT INTO ${EP} (id, url, secret, events, account, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [ep.id, ep.url, secret, ep.events, ep.account, ep.source, endpoint.createdAt])
      cached = [...cached.filter((c) => c.endpoint.id !== ep.id), { endpoint, secret }]
      return copyEndpoint(endpoint)
    },

    async removeEndpoint(id) {
      const gone = await tx(pool, async (c) => {
        await c.query(`DELETE FROM ${D} WHERE endpoint_id = $1`, [id])
        return ((await c.query(`DELETE FROM ${EP} WHERE id = $1`, [id])).rowCount ?? 0) > 0
      })
      cached = cached.filter((c) => c.endpoint.id !== id)
      return gone
    },

    async setSecret(id, secret) {
      const res = await pool.query(`UPDATE ${EP} SET secret = $2 WHERE id = $1`, [id, secret])
      const known = cached.find((c) => c.endpoint.id === id)
      if (known) known.secret = secret
      return (res.rowCount ?? 0) > 0
    },

    async endpoints() {
      // Read every time (the worker asks once per pass): endpoints added or removed by another
      // process reach this one's wanted() and worker here.
      return (await reload()).map((r) => copyEndpoint(toEndpoint(r)))
    },

    async secretOf(id) {
      const known = cached.find((c) => c.endpoint.id === id)
      if (known) return known.secret
      const [row] = await rows<{ secret: string }>(pool, `SELECT secret FROM ${EP} WHERE id = $1`, [id])
      return row?.secret
    },

    async backlog() {
      const out: Record<string, number> = {}
      for (const r of await rows<{ endpoint_id: string; n: number }>(pool,
        `SELECT endpoint_id, count(*)::int AS n FROM ${D} WHERE status = 'pending' GROUP BY endpoint_id`)) out[r.endpoint_id] = r.n
      return out
    },

    async health(endpointId): Promise<EndpointHealth | undefined> {
      const [r] = await rows<{ last_success_at: number | null; last_failure_at: number | null; last_error: string | null; consecutive_failures: number }>(
        pool, `SELECT last_success_at, last_failure_at, last_error, consecutive_failures FROM ${EP} WHERE id = $1`, [endpointId])
      return r && {
        lastSuccessAt: r.last_success_at, lastFailureAt: r.last_failure_at,
        lastError: r.last_error, consecutiveFailures: r.consecutive_failures,
      }
    },

    async prune(before) {
      // Rows are (nearly) in creation order: everything below the first young row is old;
      // pending rows among them stay.
      const [young] = await rows<{ id: number }>(pool, `SELECT id FROM ${D} WHERE created_at >= $1 ORDER BY id LIMIT 1`, [before])
      const bound = young?.id ?? Number.MAX_SAFE_INTEGER
      let total = 0
      for (;;) {
        const res = await pool.query(`DELETE FROM ${D} WHERE id IN (SELECT id FROM ${D}
          WHERE id < $1 AND status <> 'pending' ORDER BY id LIMIT $2)`, [bound, pruneChunk])
        const n = res.rowCount ?? 0
        total += n
        if (n < pruneChunk) break
      }
      // Events below the lowest one a delivery still names have none left. (Not "the event of
      // the oldest delivery": with concurrent writers event and delivery numbers interleave.)
      await pool.query(`DELETE FROM ${E} WHERE seq < (SELECT coalesce(min(event_seq), 9223372036854775807) FROM ${D})`)
      return total
    },
  }
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id, url: row.url, events: row.events === null ? null : [...row.events],
    account: row.account, source: row.source, createdAt: row.created_at,
  }
}

