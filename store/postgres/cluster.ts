import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Logger } from 'pino'
import type { Pool } from './db.ts'

/** What the owner of an account publishes for every other process: where it is and how the account stands. */
export interface OwnerRow {
  account: string
  processId: string
  /** where the owner takes forwarded requests */
  url: string
  /** the connection state (ConnectionStatus) */
  status: string
  user: unknown
  qr: string | null
}

export interface ClusterOptions {
  url: string
  schema: string
  log: Logger
  /** this process: unique among the processes sharing the database */
  processId: string
  /** where this process takes forwarded requests (e.g. http://pollwire-2:3000); known once it listens */
  advertiseUrl: () => string
  /**
   * The lock session pings this often; PostgreSQL ends it (and frees its locks) after
   * `idleTimeoutMs` without a statement: a hung owner loses its accounts within that time.
   */
  pingMs?: number
  idleTimeoutMs?: number
}

/** Channels of NOTIFY: what changed, for whom (the payload is an account id). */
export const CHANNELS = { changed: 'pollwire_changed', owner: 'pollwire_owner', accounts: 'pollwire_accounts' } as const
export type Channel = keyof typeof CHANNELS

/**
 * Several processes on one database (API.md, "Past one machine"): each account is owned by
 * the process holding its PostgreSQL advisory lock. The locks live on one dedicated session
 * per process, with TCP keepalives and `idle_session_timeout`, so a killed, hung or cut-off
 * owner loses them within seconds (kill -9 at once: its socket closes). The same session
 * LISTENs for the hints other processes send (a commit, an owner's state, a new account).
 * Owners publish their state in `account_owner` so every process answers /status alike.
 */
export async function openCluster(pool: Pool, opts: ClusterOptions) {
  const { schema, log } = opts
  const pingMs = opts.pingMs ?? 2000
  const idleTimeoutMs = opts.idleTimeoutMs ?? 10_000
  const O = `"${schema}".account_owner`
  const owned = new Set<string>()
  const lostListeners = new Set<(err: Error) => void>()
  const reopenListeners = new Set<() => void>()
  let opened = 0
  const notifyListeners = new Set<(channel: Channel, account: string) => void>()
  let session: pg.Client | null = null
  let ping: ReturnType<typeof setInterval> | undefined
  let closed = false

  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".cluster_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)`)
  await pool.query(`INSERT INTO "${schema}".cluster_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [randomBytes(32).toString('hex')])
  const secret = (await pool.query<{ secret: string }>(`SELECT secret FROM "${schema}".cluster_secret`)).rows[0]!.secret
  await pool.query(`CREATE TABLE IF NOT EXISTS ${O} (
    account TEXT PRIMARY KEY, process_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL,
    wa_user JSONB, qr TEXT, heartbeat_at BIGINT NOT NULL)`)

  // Where @socket.io/postgres-adapter keeps messages too large for a NOTIFY (over 8,000 bytes);
  // it does not create the table itself. Its layout is the adapter's (its README).
  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".socket_io_attachments (
    id BIGSERIAL UNIQUE, created_at TIMESTAMPTZ DEFAULT NOW(), payload BYTEA)`)

  const lockSpace = `pollwire:${schema}`
  const lockKey = (account: string) => [lockSpace, account]
  const channelOf = new Map<string, Channel>(Object.entries(CHANNELS).map(([k, v]) => [v, k as Channel]))

  async function connect(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: opts.url, keepAlive: true, keepAliveInitialDelayMillis: 1000, application_name: `pollwire-locks-${opts.processId}` })
    await c.connect()
    // The server's side of detection: a cut-off peer in ~8 s, a silent (hung) one after idleTimeoutMs.
    await c.query(`SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3;
      SET idle_session_timeout = ${Math.max(1000, Math.round(idleTimeoutMs))}`)
    for (const ch of Object.values(CHANNELS)) await c.query(`LISTEN ${ch}`)
    c.on('notification', (n) => {
      const channel = channelOf.get(n.channel)
      if (channel && n.payload) for (const fn of notifyListeners) fn(channel, n.payload)
    })
    const lost = (err: Error) => {
      if (session !== c) return
      session = null
      clearInterval(ping)
      const had = [...owned]
      owned.clear()
      c.removeAllListeners('error')
      c.on('error', () => undefined)
      c.end().catch(() => undefined)
      if (!closed) {
        log.error({ err, accounts: had }, 'PostgreSQL lock session lost: this process owns no account now')
        for (const fn of lostListeners) fn(err)
      }
    }
    c.on('error', lost)
    c.on('end', () => lost(new Error('the lock session ended')))
    return c
  }

  /** The lock session, opened (again) when needed; null while PostgreSQL cannot be reached. */
  async function ensure(): Promise<pg.Client | null> {
    if (session || closed) return session
    try {
      session = await connect()
    } catch (err) {
      log.warn({ err }, 'PostgreSQL lock session could not be opened; trying again')
      return null
    }
    const s = session
    // Hints sent while no session listened are lost: those who follow must look again.
    if (opened++) for (const fn of reopenListeners) fn()
    ping = setInterval(() => {
      // Also the owners' heartbeat: another process sees how fresh an owner's row is.
      s.query(`UPDATE ${O} SET heartbeat_at = $1 WHERE process_id = $2`, [Date.now(), opts.processId]).catch(() => undefined)
    }, pingMs)
    return s
  }

  return {
    processId: opts.processId,
    /** forwarded requests carry it: any process with the database can make them, nobody else */
    secret,
    owns: (account: string) => owned.has(account),
    owned: (): ReadonlySet<string> => owned,
    /** Takes the account's lock when free; true when this process owns it now. */
    async tryAcquire(account: string): Promise<boolean> {
      if (owned.has(account)) return true
      const s = await ensure()
      if (!s) return false
      const [a, b] = lockKey(account)
      const got = (await s.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', [a, b])).rows[0]!.ok
      if (got && session === s) owned.add(account)
      return got && session === s
    },
    async release(account: string): Promise<void> {
      if (!owned.delete(account) || !session) return
      const [a, b] = lockKey(account)
      await session.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [a, b]).catch(() => undefined)
      await pool.query(`DELETE FROM ${O} WHERE account = $1 AND process_id = $2`, [account, opts.processId]).catch(() => undefined)
    },
    /** The owner publishes the account's state (and where to forward to), then tells the others. */
    async publish(account: string, state: { status: string; user: unknown; qr: string | null }): Promise<void> {
      if (!owned.has(account)) return
      await pool.query(`INSERT INTO ${O} (account, process_id, url, status, wa_user, qr, heartbeat_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
        ON CONFLICT (account) DO UPDATE SET process_id = excluded.process_id, url = excluded.url, status = excluded.status,
        wa_user = excluded.wa_user, qr = excluded.qr, heartbeat_at = excluded.heartbeat_at`,
      [account, opts.processId, opts.advertiseUrl(), state.status, state.user === null ? null : JSON.stringify(state.user), state.qr, Date.now()])
      await this.notify('owner', account)
    },
    /**
     * The published state of every account whose owner holds its lock now (which may hang: see
     * heartbeatAt). A row whose lock nobody holds is a dead owner's (kill -9 leaves it behind):
     * a process restarted on the database must not show that owner's `ready` as the account's.
     */
    async owners(): Promise<Map<string, OwnerRow & { heartbeatAt: number }>> {
      const res = await pool.query<{ account: string; process_id: string; url: string; status: string; wa_user: unknown; qr: string | null; heartbeat_at: number }>(
        `SELECT account, process_id, url, status, wa_user, qr, heartbeat_at FROM ${O} o
        WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = hashtext($1)::oid AND l.objid = hashtext(o.account)::oid)`, [lockSpace])
      return new Map(res.rows.map((r) => [r.account, { account: r.account, processId: r.process_id, url: r.url, status: r.status, user: r.wa_user, qr: r.qr, heartbeatAt: Number(r.heartbeat_at) }]))
    },
    /** A hint to every process (this one too): something of `account` changed. */
    async notify(channel: Channel, account: string): Promise<void> {
      await pool.query('SELECT pg_notify($1, $2)', [CHANNELS[channel], account]).catch((err) => log.debug({ err }, 'notify failed'))
    },
    /** Opens the lock session (and its LISTENs) now rather than at the first acquire. */
    start: () => ensure().then(() => undefined),
    onNotify(fn: (channel: Channel, account: string) => void): () => void {
      notifyListeners.add(fn)
      return () => { notifyListeners.delete(fn) }
    },
    /** The lock session opened again after it was lost: any hint sent meanwhile was missed. */
    onReopen(fn: () => void): () => void {
      reopenListeners.add(fn)
      return () => { reopenListeners.delete(fn) }
    },
    /** The lock session died: every lock is gone with it. */
    onLost(fn: (err: Error) => void): () => void {
      lostListeners.add(fn)
      return () => { lostListeners.delete(fn) }
    },
    async close(): Promise<void> {
      closed = true
      clearInterval(ping)
      const s = session
      session = null
      if (owned.size) await pool.query(`DELETE FROM ${O} WHERE process_id = $1`, [opts.processId]).catch(() => undefined)
      owned.clear()
      // Ending the session frees its locks at once.
      if (s) { s.removeAllListeners('error'); s.on('error', () => undefined); await s.end().catch(() => undefined) }
    },
  }
}

export type Cluster = Awaited<ReturnType<typeof openCluster>>
