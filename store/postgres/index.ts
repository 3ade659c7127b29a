import type { Logger } from 'pino'
import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { AccountStore, Store } from '../ports.ts'
import { createPgAuth, pgKeyWriter } from './auth.ts'
import { createPgCampaigns } from './campaigns.ts'
import { createPgChats } from './chats.ts'
import { openPool, SCHEMA_NAME, type Pool } from './db.ts'
import { createPgHealth } from './health.ts'
import { createPgOutbox, type PgOutbox, type PgOutboxOptions } from './outbox.ts'
import { createPgRegistry } from './registry.ts'
import { migrate } from './schema.ts'
import { createPgJournal, maxSeqs, seqCounter, type SeqCounter } from './votes.ts'

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL) */
  url: string
  log: Logger
  /** the schema that holds every table (created when missing); `public` by default */
  schema?: string
  /** connections at most (default 10) */
  poolSize?: number
  outbox?: PgOutboxOptions
}

/** The PostgreSQL store; `pool` and `schema` are for diagnostics and tests, the core sees only the Store port. */
export interface PostgresStore extends Store {
  readonly pool: Pool
  readonly schema: string
  readonly outbox: PgOutbox
  /**
   * Re-reads the account's highest journal number and continues after it: for a process that
   * takes an account over from another (the journal numbers of an account come from the
   * process that owns it).
   */
  resyncSeq(account: string): Promise<void>
}

/**
 * The store in PostgreSQL (DATABASE_URL=postgres://…): every table of the SQLite store in one
 * schema, each per-account row carrying its `account`, behind a connection pool. Migrations
 * run at open (schema.ts). Each account's journal numbers continue after the highest one stored,
 * from a counter in this process: one process owns an account at a time.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const schema = opts.schema ?? 'public'
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}" (lower-case letters, digits, _)`)
  const log = opts.log.child({ module: 'store' })
  const pool = openPool({ url: opts.url, log, max: opts.poolSize })
  let outbox: PgOutbox
  let seqs: Map<string, SeqCounter>
  try {
    const applied = await migrate(pool, schema)
    if (applied.length) log.info({ schema, applied }, 'PostgreSQL schema migrated')
    outbox = await createPgOutbox(pool, schema, opts.outbox)
    seqs = new Map([...await maxSeqs(pool, schema)].map(([account, last]) => [account, seqCounter(last)]))
  } catch (err) {
    await pool.end().catch(() => undefined)
    throw err
  }
  const health = createPgHealth({ pool, schema, log })
  const counter = (id: string) => {
    let c = seqs.get(id)
    if (!c) seqs.set(id, (c = seqCounter(0)))
    return c
  }
  const accounts = new Map<string, AccountStore>()
  // A purge deletes the polls the outbox's poll.vote records are rendered from: their bodies first.
  const registry = createPgRegistry(pool, schema, health, undefined, (c, account) => outbox.materializeIn(c, account))
  let closed = false

  return {
    pool,
    schema,
    ...registry,
    async removeAccount(id, purge) {
      const removed = await registry.removeAccount(id, purge)
      accounts.delete(id)
      return removed
    },
    account(id) {
      let a = accounts.get(id)
      if (a) return a
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      a = {
        auth: createPgAuth(pool, schema, id, health),
        chats: createPgChats(pool, schema, id, health),
        votes: createPgJournal(pool, schema, id, health, counter(id), outbox, pgKeyWriter(schema, id)),
        campaigns: createPgCampaigns(pool, schema, id, health, outbox),
      }
      accounts.set(id, a)
      return a
    },
    outbox,
    health,
    async resyncSeq(id) {
      const [row] = (await pool.query<{ m: number }>(`SELECT coalesce(max(seq), 0) AS m FROM "${schema}".vote_journal WHERE account = $1`, [id])).rows
      counter(id).reset(row!.m)
    },
    async close() {
      if (closed) return
      closed = true
      accounts.clear()
      await outbox.flush()
      await pool.end()
    },
  }
}
