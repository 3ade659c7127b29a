import Database from 'libsql'
import { chmodSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { prepareDataDir } from './data-dir.ts'

export type Db = InstanceType<typeof Database>

/**
 * Opens the single SQLite store under `dataDir` (created 0700 when missing, an existing
 * directory left as it is; file 0600).
 * WAL with synchronous=FULL: a commit is on disk before we acknowledge anything,
 * which is the promise the vote journal and the poll table make to users.
 */
export function openDb(dataDir: string, file = 'pollwire.db'): Db {
  prepareDataDir(dataDir)
  const path = join(dataDir, file)
  // SQLite gives -wal and -shm the mode of the database file when it creates them; files left
  // by a restore or an older version keep theirs, so all three are tightened on every open.
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600)
  const db = new Database(path)
  chmodSync(path, 0o600)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  return db
}

const readers = new WeakMap<Db, Db | null>()

/**
 * A second connection to `db`'s file, read-only, for long reads (the journal scan); opened on
 * first use and kept until closeReader (libsql frees a connection only once its statements are
 * collected, so one kept connection beats one per read). Undefined for an in-memory store:
 * another connection would open another, empty database.
 */
export function readerOf(db: Db): Db | undefined {
  let reader = readers.get(db)
  if (reader === undefined) {
    const main = (db.prepare('PRAGMA database_list').all() as Array<{ name: string; file: string }>).find((r) => r.name === 'main')
    reader = main?.file ? new Database(main.file) : null
    reader?.pragma('busy_timeout = 5000')
    reader?.pragma('query_only = ON')
    readers.set(db, reader)
  }
  return reader ?? undefined
}

/** Closes `db`'s reader, if it has one (the store's close). */
export function closeReader(db: Db): void {
  readers.get(db)?.close()
  readers.delete(db)
}

/** An in-memory store with the same schema, for tests that do not care about files. */
export function openMemoryDb(): Db {
  return new Database(':memory:')
}

/**
 * Runs `fn` inside one immediate transaction and returns its result. Not libsql's
 * `transaction()` wrapper: when SQLite has already rolled back by itself (SQLITE_FULL, I/O
 * errors), that wrapper's own ROLLBACK fails with "cannot rollback - no transaction is
 * active" and the real error is lost. Here the real error is what the caller sees.
 */
export function tx<T>(db: Db, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const out = fn()
    db.exec('COMMIT')
    return out
  } catch (err) {
    if (db.inTransaction) {
      try { db.exec('ROLLBACK') } catch { /* the original error says more */ }
    }
    throw err
  }
}
