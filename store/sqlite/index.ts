import type { Logger } from 'pino'
import type { AccountStore, Store } from '../ports.ts'
import { createSqliteAuth } from './auth.ts'
import { createSqliteChats } from './chats.ts'
import { lockDataDir, prepareDataDir } from './data-dir.ts'
import { openDb, type Db } from './db.ts'
import { createStoreHealth } from './health.ts'
import { createSqliteJournal } from './votes.ts'

export interface SqliteStoreOptions {
  dataDir: string
  log: Logger
}

/** Account ids as the API allows them (API.md, "Several accounts"): safe in a file name. */
const ACCOUNT_ID = /^[a-z0-9_-]{1,32}$/

/**
 * The embedded store: one SQLite file per account under DATA_DIR (`pollwire.db` for the
 * `default` account, `pollwire-<id>.db` for the others), so accounts share no table and no
 * write lock — one account's flood never waits on another's commits — and purging an account
 * is deleting its file. DATA_DIR is locked for this process before any file is opened.
 */
/** The SQLite store; `db` is for diagnostics and tests, the core sees only the Store port. */
export interface SqliteStore extends Store {
  db(accountId: string): Db
}

export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const dir = prepareDataDir(opts.dataDir)
  if (!dir.created && dir.mode & 0o077) {
    opts.log.warn({ dataDir: opts.dataDir, mode: `0${dir.mode.toString(8)}` }, 'DATA_DIR is open to other users of this machine; it holds the WhatsApp credentials and poll secrets: chmod 700 it')
  }
  const lock = lockDataDir(opts.dataDir)
  const dbs = new Map<string, Db>()
  const accounts = new Map<string, AccountStore>()
  let main: Db
  try { main = openDb(opts.dataDir) } catch (err) { lock.release(); throw err }
  dbs.set('default', main)
  const health = createStoreHealth({ db: main, log: opts.log.child({ module: 'store' }) })

  return {
    account(id) {
      let a = accounts.get(id)
      if (a) return a
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      let db = dbs.get(id)
      if (!db) dbs.set(id, (db = openDb(opts.dataDir, `pollwire-${id}.db`)))
      a = { auth: createSqliteAuth(db, health), chats: createSqliteChats(db, health), votes: createSqliteJournal(db, health) }
      accounts.set(id, a)
      return a
    },
    health,
    db(accountId) {
      this.account(accountId)
      return dbs.get(accountId)!
    },
    async close() {
      for (const db of dbs.values()) db.close()
      dbs.clear()
      accounts.clear()
      lock.release()
    },
  }
}
