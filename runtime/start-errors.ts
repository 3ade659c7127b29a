import { DataDirInUseError, LOCK_FILE } from '../store/sqlite/data-dir.ts'

/**
 * A failed start is one line for a person: which setting, what went wrong, what to change.
 * These turn the errors of the two start steps that depend on the environment (opening
 * DATA_DIR, listening on HOST:PORT) into that line; null = not an error we know, the caller
 * still prints one line but logs the error in full.
 */

const codeOf = (err: unknown) => (err as { code?: unknown } | null)?.code
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim()

/** Why DATA_DIR `dir` could not be used (prepared, locked or its store opened). */
export function dataDirProblem(err: unknown, dir: string): string | null {
  if (err instanceof DataDirInUseError) {
    return `DATA_DIR ${dir} is in use by another pollwire process (pid ${err.pid ?? 'unknown'}); stop it or choose another DATA_DIR`
  }
  const cannot = `cannot use DATA_DIR ${dir}`
  switch (codeOf(err)) {
    case 'ENOTDIR': return `${cannot}: it or a folder on its path is a file, not a directory (set DATA_DIR)`
    case 'EACCES':
    case 'EPERM': return `${cannot}: permission denied; it must be a directory this user can write (set DATA_DIR)`
    case 'EROFS': return `${cannot}: the file system is read-only (set DATA_DIR)`
    case 'ENOSPC':
    case 'SQLITE_FULL': return `${cannot}: no space left on the device`
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'ENOENT': return `${cannot}: ${oneLine((err as Error).message)} (set DATA_DIR)`
    case 'SQLITE_CANTOPEN': return `${cannot}: cannot open its database files; check that this user can write them (set DATA_DIR)`
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY': return `${cannot}: its database is read-only for this user; check the files' owner and mode`
    case 'SQLITE_BUSY': return `${cannot}: its database is locked by another program; stop it or choose another DATA_DIR`
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT': return `${cannot}: a database file there is damaged (${oneLine((err as Error).message)}); if it is ${LOCK_FILE}, delete it while no pollwire runs`
  }
  const code = codeOf(err)
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return `${cannot}: ${oneLine((err as Error).message)} (${code})`
  return null
}

/** Why the PostgreSQL database of DATABASE_URL could not be used (never quoting the URL: it may hold a password). */
export function databaseProblem(err: unknown): string | null {
  const cannot = 'cannot use the database of DATABASE_URL'
  switch (codeOf(err)) {
    case 'ECONNREFUSED': return `${cannot}: nothing accepts connections at its host and port (is PostgreSQL running?)`
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `${cannot}: its host name does not resolve`
    case 'ETIMEDOUT': return `${cannot}: the connection timed out`
    case '28P01':
    case '28000': return `${cannot}: the server refused the user name or password`
    case '3D000': return `${cannot}: the database does not exist (create it, or fix its name)`
    case '42501': return `${cannot}: the user may not create the tables it needs`
  }
  return null
}

/** `host:port` as a person would type it, brackets around an IPv6 address. */
const address = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`

/** Why the HTTP server could not listen on HOST:PORT. */
export function listenProblem(err: unknown, host: string, port: number): string {
  const cannot = `cannot listen on ${address(host, port)}`
  switch (codeOf(err)) {
    case 'EADDRINUSE': return `${cannot}: the port is in use (set PORT)`
    case 'EACCES':
    case 'EPERM': return `${cannot}: permission denied; ports below 1024 need privileges (set PORT)`
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL': return `${cannot}: the host name "${host}" does not resolve to an address (set HOST)`
    case 'EAI_AGAIN': return `${cannot}: the host name "${host}" could not be resolved now, the DNS lookup failed (set HOST to an IP address)`
    case 'EADDRNOTAVAIL': return `${cannot}: ${host} is not an address of this machine (set HOST)`
  }
  return `${cannot}: ${oneLine(err instanceof Error ? err.message : String(err))} (check HOST and PORT)`
}
