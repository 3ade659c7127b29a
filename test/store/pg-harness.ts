import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/*
 * PostgreSQL for the tests: a throwaway cluster of Debian's `postgresql` package (initdb +
 * pg_ctl into a temporary directory, trust authentication, 127.0.0.1 on a free port), started
 * for one test file and removed after it; or the server named by PG_TEST_URL when that is set
 * (then each test works in a schema of its own, dropped after it). No PostgreSQL at all is a
 * failure with a message saying what to install, never a skip.
 */

const MISSING = 'PostgreSQL tests need a PostgreSQL server: install Debian\'s postgresql package '
  + '(apt-get install -y postgresql; .ci/test-deps does it) or set PG_TEST_URL=postgres://user@127.0.0.1:5432/db'

/** The directory of initdb/pg_ctl/postgres/psql: PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function pgBin(): string | null {
  const env = process.env.PG_BIN
  if (env && existsSync(join(env, 'initdb'))) return env
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions.length ? join(root, versions[0]!, 'bin') : null
}

/** Throws the message saying what to install when there is no PostgreSQL to test against. */
export function requirePostgres(): void {
  if (!process.env.PG_TEST_URL && !pgBin()) throw new Error(MISSING)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export interface ClusterOptions {
  /** fsync and synchronous commit as in production (for benchmarks); off by default, for speed */
  durable?: boolean
  /** max_connections of the cluster (default 50) */
  maxConnections?: number
}

export interface PgCluster {
  /** the server's URL (starts the cluster on first use) */
  url(): Promise<string>
  /** the directory of the PostgreSQL programs (psql) */
  bin(): string | null
  /** stops and removes the cluster this harness started (nothing for PG_TEST_URL) */
  stop(): Promise<void>
}

/** One cluster for one test file (or benchmark): lazily started, stopped by stop() or at exit. */
export function pgCluster(opts: ClusterOptions = {}): PgCluster {
  let started: Promise<{ url: string; dir: string; data: string; as: string[] }> | null = null
  // What this harness made and must remove: from the directory's creation on.
  let running: { dir: string; data: string; as: string[] } | null = null
  const bin = pgBin()

  const run = (as: string[], cmd: string, args: string[]) => {
    const [exe, ...pre] = as.length ? [...as, join(bin!, cmd)] : [join(bin!, cmd)]
    const res = spawnSync(exe!, [...pre, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    if (res.status !== 0) throw new Error(`${cmd} failed (${res.status ?? res.signal}): ${(res.stderr || res.stdout || String(res.error ?? '')).trim()}`)
  }

  const stopNow = () => {
    if (!running) return
    const { dir, data, as } = running
    running = null
    if (existsSync(join(data, 'postmaster.pid'))) {
      try { run(as, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']) } catch { /* gone already */ }
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const onExit = () => stopNow()
  // Interrupted (Ctrl-C, a CI timeout): no 'exit' event follows a signal, so stop here, then die of it.
  const onSignal = (signal: NodeJS.Signals) => {
    stopNow()
    process.kill(process.pid, signal)
  }
  const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const unhook = () => {
    process.removeListener('exit', onExit)
    for (const sig of SIGNALS) process.removeListener(sig, onSignal)
  }

  async function start() {
    if (!bin) throw new Error(MISSING)
    const dir = mkdtempSync(join(tmpdir(), 'pollwire-pg-'))
    // initdb refuses to run as root: as root, the cluster belongs to the package's `postgres` user.
    const as = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
    if (as.length) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
      chownSync(dir, uid, gid)
    }
    const data = join(dir, 'data')
    running = { dir, data, as }
    process.once('exit', onExit)
    for (const sig of SIGNALS) process.once(sig, onSignal)
    try {
      run(as, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'])
      const settings = ['-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`, `-c max_connections=${opts.maxConnections ?? 50}`,
        '-c shared_buffers=64MB', ...(opts.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'])]
      for (let attempt = 0; ; attempt++) {
        const port = await freePort()
        try {
          run(as, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', [`-p ${port}`, ...settings].join(' '), 'start'])
          return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, data, as }
        } catch (err) {
          // Another process took the port between the check and the start: try another one.
          const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : ''
          if (attempt < 2 && /Address already in use/i.test(log)) continue
          throw new Error(`${(err as Error).message}\n${log.trim()}`)
        }
      }
    } catch (err) {
      unhook()
      stopNow()
      throw err
    }
  }

  return {
    async url() {
      if (process.env.PG_TEST_URL) return process.env.PG_TEST_URL
      started ??= start()
      return (await started).url
    },
    bin: () => bin,
    async stop() {
      unhook()
      started = null
      stopNow()
    },
  }
}

let schemas = 0

/** A schema name of this process, new each time. */
export const newSchema = (prefix = 'pw_test') => `${prefix}_${process.pid}_${++schemas}`

/** Runs SQL on a connection of its own (set-up and clean-up of tests). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try { await client.query(sql) } finally { await client.end() }
}

export const dropSchema = (url: string, schema: string) => adminQuery(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`)

/**
 * Makes every write to the tables of `schema` fail as a full disk does (SQLSTATE 53100
 * disk_full, "could not extend file"), or work again: a statement trigger on each table raises.
 * Synchronous (psql), because the store contract switches it between two awaited writes;
 * the store's pooled connections see the change on their next statement.
 */
export function failWritesSync(cluster: PgCluster, url: string, schema: string, on: boolean): void {
  const sql = on
    ? `CREATE OR REPLACE FUNCTION "${schema}".pw_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $f$;
       DO $d$ DECLARE t text; BEGIN
         FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '${schema}' LOOP
           EXECUTE format('CREATE OR REPLACE TRIGGER pw_test_disk_full BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I.%I
             FOR EACH STATEMENT EXECUTE FUNCTION %I.pw_test_disk_full()', '${schema}', t, '${schema}');
         END LOOP; END $d$;`
    : `DROP FUNCTION IF EXISTS "${schema}".pw_test_disk_full() CASCADE;`
  const bin = cluster.bin()
  const psql = bin ? join(bin, 'psql') : 'psql'
  execFileSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] })
}
