import pg from 'pg'
import type { Pool, PoolClient, QueryResultRow } from 'pg'
import type { Logger } from 'pino'

export type { Pool, PoolClient }

/** What a statement runs on: the pool (its own autocommitted statement) or a transaction's client. */
export type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>

/** A schema name this store creates and addresses by name (never quoted user input: checked). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

// BIGINT (int8) comes back as a string by default; every BIGINT here is a journal number, a row id
// or milliseconds, all far below 2^53. Set on this pool's clients only, never globally.
const INT8 = 20
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 && format !== 'binary') return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
} as unknown as NonNullable<pg.PoolConfig['types']>

export interface PoolOptions {
  url: string
  log: Logger
  /** connections at most (default 10) */
  max?: number
}

/**
 * The connection pool. An idle connection the server drops (restart, failover) is an 'error'
 * event of the pool: logged, not fatal; the pool opens a new one on the next query.
 */
export function openPool({ url, log, max = 10 }: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: url, max, types, application_name: 'pollwire', idleTimeoutMillis: 30_000,
    // An unreachable server fails the write (and /health) instead of holding it forever.
    connectionTimeoutMillis: 10_000, keepAlive: true,
  } as pg.PoolConfig)
  pool.on('error', (err) => log.warn({ err }, 'PostgreSQL: an idle connection failed'))
  return pool
}

/**
 * Runs `fn` inside BEGIN … COMMIT on one connection of the pool and returns its result. A
 * failure rolls back and rethrows the real error; a connection whose ROLLBACK failed too is
 * thrown away rather than handed to the next caller in an unknown state.
 */
export async function tx<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  // A connection lost between two statements is an 'error' event of the checked-out client
  // (fatal when nobody listens); the next statement fails with it, which is what is reported.
  const lost = (err: Error) => { broken = err }
  client.on('error', lost)
  try {
    await client.query('BEGIN')
    const out = await fn(client)
    await client.query('COMMIT')
    return out
  } catch (err) {
    try { await client.query('ROLLBACK') } catch (e) { broken = e as Error }
    throw err
  } finally {
    client.removeListener('error', lost)
    client.release(broken)
  }
}

/** The rows of a query as arrays (no object per row: cheaper for big reads). */
export async function arrays<R extends unknown[]>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
  const res = await (db as Pool).query<R>({ text, values, rowMode: 'array' } as never)
  return res.rows
}

export async function rows<R extends QueryResultRow>(db: Queryable, text: string, values: unknown[] = []): Promise<R[]> {
  return (await (db as Pool).query<R>(text, values)).rows
}

/** A Uint8Array as the Buffer pg sends as bytea, without a copy. */
export const bytes = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength))
