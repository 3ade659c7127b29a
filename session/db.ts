import Database from 'libsql'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

export type Db = InstanceType<typeof Database>

/**
 * Opens the single SQLite store under `dataDir` (created 0700, file 0600).
 * WAL with synchronous=FULL: a commit is on disk before we acknowledge anything,
 * which is the promise the vote journal and the poll table make to users.
 */
export function openDb(dataDir: string, file = 'pollwire.db'): Db {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, 0o700)
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

/** An in-memory store with the same schema, for tests that do not care about files. */
export function openMemoryDb(): Db {
  return new Database(':memory:')
}

/** Runs `fn` inside one immediate transaction and returns its result. */
export function tx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate()
}
