import Database from 'libsql'
import { accessSync, chmodSync, closeSync, constants, mkdirSync, openSync, readSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'

export interface DataDirState {
  /** true when this call created it (0700) */
  created: boolean
  /** its permission bits; an existing directory is reported, never changed */
  mode: number
}

/**
 * Makes sure `dir` is a directory this process can write. A missing one is created 0700; an
 * existing one is left as its owner set it (`DATA_DIR=.` must not tighten someone's own folder):
 * the caller warns when it is open to other users. Throws the file system's error (ENOTDIR,
 * EACCES, EROFS...) with its `code`.
 */
export function prepareDataDir(dir: string): DataDirState {
  let isDir: boolean
  let mode: number
  try {
    const st = statSync(dir)
    isDir = st.isDirectory()
    mode = st.mode & 0o777
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    chmodSync(dir, 0o700) // mkdir's mode passes through the umask
    return { created: true, mode: 0o700 }
  }
  if (!isDir) throw Object.assign(new Error(`ENOTDIR: not a directory, '${dir}'`), { code: 'ENOTDIR', path: dir })
  accessSync(dir, constants.W_OK | constants.X_OK)
  return { created: false, mode }
}

export const LOCK_FILE = 'pollwire.lock'

/** Another process (or this one) holds the lock on this DATA_DIR. */
export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string, readonly pid: number | null) {
    super(`DATA_DIR ${dataDir} is in use by another pollwire process (pid ${pid ?? 'unknown'})`)
  }
}

export interface DataDirLock {
  /** gives the directory back; idempotent */
  release(): void
}

// POSIX record locks belong to the process: closing ANY descriptor of the lock file drops every
// lock the process holds on it. So this process never opens a lock file it holds (see holderPid);
// SQLite's own bookkeeping already refuses a second connection of the same process.
const held = new Set<string>()

/**
 * Takes the one-process-per-DATA_DIR lock, before anything touches the store: two processes on
 * one store collide (vote_journal.seq, Signal keys). The lock is a small SQLite file held in
 * `locking_mode=EXCLUSIVE`: its fcntl lock goes away with the process, so a kill -9 leaves
 * nothing stale, and libsql does it the same way on Node and on Deno. The holder's pid is in
 * the file's header (`user_version`), written in the same transaction that takes the lock, for
 * the message a second process prints. Throws DataDirInUseError when it is held.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE)
  const key = join(realpathSync(dir), LOCK_FILE)
  if (held.has(key)) throw new DataDirInUseError(dir, process.pid)
  const db = new Database(path, { timeout: 0 })
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    // Only the 4-byte pid is ever written, in one page write: no journal, no fsync needed.
    db.exec('PRAGMA journal_mode = OFF')
    db.exec('PRAGMA synchronous = OFF')
    db.exec('BEGIN EXCLUSIVE')
    db.exec(`PRAGMA user_version = ${process.pid}`)
    db.exec('COMMIT') // in EXCLUSIVE locking mode the lock outlives the transaction
  } catch (err) {
    db.close()
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirInUseError(dir, holderPid(path))
    throw err
  }
  held.add(key)
  chmodSync(path, 0o600)
  let released = false
  return {
    release() {
      if (released) return
      released = true
      db.close()
      held.delete(key)
    },
  }
}

/** The pid in a held lock file's header (SQLite's user_version, big-endian at offset 60). */
function holderPid(path: string): number | null {
  try {
    const fd = openSync(path, 'r')
    try {
      const buf = Buffer.alloc(4)
      return readSync(fd, buf, 0, 4, 60) === 4 && buf.readUInt32BE(0) > 0 ? buf.readUInt32BE(0) : null
    } finally { closeSync(fd) }
  } catch {
    return null
  }
}
