import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import Database from 'libsql'
import pg from 'pg'
import { pino } from 'pino'
import type { Store } from '../../../store/ports.ts'
import { openPostgresStore } from '../../../store/postgres/index.ts'
import { openSqliteStore } from '../../../store/sqlite/index.ts'
import { adminQuery, failWritesSync, pgCluster, requirePostgres, type PgCluster } from '../../store/pg-harness.ts'

/*
 * Which store the end-to-end servers run on: the SQLite file in DATA_DIR (default), or with
 * E2E_STORE=postgres one database per DATA_DIR in a throwaway PostgreSQL cluster
 * (test/store/pg-harness.ts: Debian's postgresql, or the server of PG_TEST_URL), started at the
 * first server of the test run and shared by every test file of it. The database of a DATA_DIR
 * is created on first use and found again by a server restarted on the same DATA_DIR (kill -9
 * tests), as the SQLite file would be.
 */

export type E2eStore = 'sqlite' | 'postgres'

function chosenStore(value = ''): E2eStore {
  if (value === '' || value === 'sqlite') return 'sqlite'
  if (value === 'postgres') return 'postgres'
  throw new Error(`E2E_STORE must be sqlite or postgres, not "${value}"`)
}

export const E2E_STORE = chosenStore(process.env.E2E_STORE)
export const onPostgres = E2E_STORE === 'postgres'

let cluster: PgCluster | null = null
/** The database URL of each DATA_DIR (absolute path) used in this run. */
const databases = new Map<string, Promise<string>>()

function theCluster(): PgCluster {
  if (!cluster) {
    requirePostgres()
    // Several servers at once (pools of 10), plus the tests' own look-ups.
    cluster = pgCluster({ durable: true, maxConnections: 200 })
  }
  return cluster
}

async function createDatabase(dataDir: string): Promise<string> {
  const admin = await theCluster().url()
  const name = `pw_e2e_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`
  // A name left over by an earlier run on a PG_TEST_URL server is not this DATA_DIR's data.
  await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await adminQuery(admin, `CREATE DATABASE ${name}`)
  if (process.env.PG_TEST_URL) dropAtExit(admin, name)
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
}

/** On a server of PG_TEST_URL (not removed with a cluster of ours): the databases go at exit. */
function dropAtExit(admin: string, name: string): void {
  process.once('exit', () => {
    const bin = theCluster().bin()
    try {
      execFileSync(bin ? join(bin, 'psql') : 'psql', ['-X', '-q', '-d', admin, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'ignore' })
    } catch { /* best effort */ }
  })
}

/** The PostgreSQL URL of the database of `dataDir` (made on first use). */
export function databaseUrl(dataDir: string): Promise<string> {
  const key = resolve(dataDir)
  let url = databases.get(key)
  if (!url) databases.set(key, (url = createDatabase(key)))
  return url
}

/** What a server on `dataDir` needs in its environment to use the chosen store. */
export async function storeEnv(dataDir: string): Promise<Record<string, string>> {
  return onPostgres ? { DATABASE_URL: await databaseUrl(dataDir) } : {}
}

/**
 * For a test of what only the SQLite store does (files in DATA_DIR, its lock, a tmpfs): true on
 * PostgreSQL, after printing why the test does not run there.
 */
export function sqliteOnly(why: string): boolean {
  if (!onPostgres) return false
  console.log(`  skipped on PostgreSQL: ${why}`)
  return true
}

/** The store of `dataDir` opened by the test itself (no server may be running on it). */
export async function openStore(dataDir: string): Promise<Store> {
  const log = pino({ level: 'silent' })
  return onPostgres ? openPostgresStore({ url: await databaseUrl(dataDir), log, poolSize: 2 }) : openSqliteStore({ dataDir, log })
}

/**
 * The rows of a query on the store of `dataDir` (read only; the server may be running). Column
 * names are the same in both stores; values are as each driver gives them.
 */
export async function storedRows<R>(dataDir: string, sql: string): Promise<R[]> {
  if (onPostgres) {
    const client = new pg.Client({ connectionString: await databaseUrl(dataDir) })
    await client.connect()
    try { return (await client.query(sql)).rows as R[] } finally { await client.end() }
  }
  const db = new Database(join(dataDir, 'pollwire.db'))
  try { return db.prepare(sql).all() as R[] } finally { db.close() }
}

/**
 * Makes every write to the PostgreSQL database of `dataDir` fail as a full disk does (SQLSTATE
 * 53100), or work again: test/store/pg-harness.ts failWritesSync on its `public` schema.
 */
export async function failPostgresWrites(dataDir: string, on: boolean): Promise<void> {
  failWritesSync(theCluster(), await databaseUrl(dataDir), 'public', on)
}
