import type { Logger } from 'pino'
import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { AccountStore, Store } from '../ports.ts'
import { createSqliteAuth, sqliteKeyWriter } from './auth.ts'
import { createSqliteCampaigns } from './campaigns.ts'
import { createSqliteChats } from './chats.ts'
import { lockDataDir, prepareDataDir } from './data-dir.ts'
import { closeReader, openDb, type Db } from './db.ts'
import { createStoreHealth } from './health.ts'
import { createSqliteRegistry } from './registry.ts'
import { migrate } from './schema.ts'
import { createSqliteOutbox, type SqliteOutboxOptions } from './outbox.ts'
import { createSqliteJournal, seqCounter } from './votes.ts'

export interface SqliteStoreOptions {
  dataDir: string
  log: Logger
  outbox?: SqliteOutboxOptions
}

/** The SQLite store; `db` is for diagnostics and tests, the core sees only the Store port. */
export interface SqliteStore extends Store {
  readonly db: Db
}

/**
 * The embedded store: one SQLite file (`DATA_DIR/pollwire.db`, WAL, synchronous=FULL) with
 * every account's rows, each marked with its account, as PostgreSQL's will be. DATA_DIR is
 * locked for this process before the file is opened.
 */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const dir = prepareDataDir(opts.dataDir)
  if (!dir.created && dir.mode & 0o077) {
    opts.log.warn({ dataDir: opts.dataDir, mode: `0${dir.mode.toString(8)}` }, 'DATA_DIR is open to other users of this machine; it holds the WhatsApp credentials and poll secrets: chmod 700 it')
  }
  const lock = lockDataDir(opts.dataDir)
  let db: Db
  try {
    db = openDb(opts.dataDir)
    migrate(db)
  } catch (err) {
    lock.release()
    throw err
  }
  const health = createStoreHealth({ db, log: opts.log.child({ module: 'store' }) })
  const seqs = seqCounter(db)
  const outbox = createSqliteOutbox(db, opts.outbox)
  const accounts = new Map<string, AccountStore>()
  const registry = createSqliteRegistry(db, health)

  return {
    db,
    ...registry,
    async removeAccount(id, purge) {
      // Its outbox events stay: those still batched are rendered while their polls are there.
      if (purge) outbox.expand()
      const removed = await registry.removeAccount(id, purge)
      accounts.delete(id)
      return removed
    },
    account(id) {
      let a = accounts.get(id)
      if (a) return a
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      a = { auth: createSqliteAuth(db, id, health), chats: createSqliteChats(db, id, health), votes: createSqliteJournal(db, id, health, seqs, outbox, sqliteKeyWriter(db, id)),
        campaigns: createSqliteCampaigns(db, id, health, outbox) }
      accounts.set(id, a)
      return a
    },
    outbox,
    health,
    async close() {
      accounts.clear()
      await outbox.flush()
      closeReader(db)
      db.close()
      lock.release()
    },
  }
}
