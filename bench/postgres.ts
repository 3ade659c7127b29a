import type { WebhookEventType } from '../contract/webhooks.ts'
import { createEmitter } from '../contract/events.ts'
import { createIdentity } from '../core/identity.ts'
import { createVoteEngine, type VoteEngine } from '../core/votes/engine.ts'
import type { Outbox } from '../store/outbox-port.ts'
import type { VoteJournal } from '../store/ports.ts'
import { waitFor } from '../test/e2e/harness/server-process.ts'
import { openPostgresStore, type PostgresStore } from '../store/postgres/index.ts'
import { adminQuery, pgCluster } from '../test/store/pg-harness.ts'
import { median, start, type Start } from './restart.ts'
import type { Spawned } from './server.ts'
import { cpuMsSince, type Row } from './table.ts'
import {
  OPTIONS, OWN, createPolls, expectedResults, makeVotes, openEngine, removeDir, silent, tempDir,
  type BenchPoll, type BenchVote,
} from './votes.ts'

const POLLS = 200
const VOTERS = 100
const EXTRA = { replace: 10, retract: 5, dup: 5 }
/** the restart bench's store: 1,000 polls × (80 first votes + 20 later ones) = 100,000 journaled votes */
const RESTART_POLLS = 1000
const RESTART_VOTERS = 80

/** A new, empty database on the server of `base` (a URL), named `name`_<pid>; `drop` removes it. */
export async function freshDatabase(base: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const db = `${name}_${process.pid}`
  const drop = () => adminQuery(base, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  await drop()
  await adminQuery(base, `CREATE DATABASE ${db}`)
  const url = new URL(base)
  url.pathname = `/${db}`
  return { url: url.toString(), drop }
}

/** The engine as runtime/app.ts wires it, over any journal (bench/votes.ts openEngine is SQLite's). */
export async function openEngineOn(journal: VoteJournal, outbox?: Outbox): Promise<VoteEngine> {
  const identity = createIdentity({ lidMapping: { getLIDForPN: async () => null, getPNForLID: async () => null }, log: silent })
  identity.setOwn({ id: OWN.pn, lid: OWN.lid, name: 'Owner' })
  const webhooks = outbox && { account: 'default', wanted: (type: WebhookEventType) => outbox.wanted(type, 'default') }
  return createVoteEngine({ journal, identity, log: silent, emitter: createEmitter(), webhooks })
}

/** Sent polls through the engine (each its own durable commit, as in production). */
async function pollsOn(engine: VoteEngine, count: number, tag: string): Promise<BenchPoll[]> {
  const polls: BenchPoll[] = []
  for (let i = 0; i < count; i++) {
    const chatId = `1203631${String(i).padStart(11, '0')}@g.us`
    const selectableCount = i % 2 ? 0 : 1
    const { id, secret } = await engine.preparePoll({ chatId, question: `${tag} ${i}?`, options: OPTIONS, selectableCount })
    await engine.markSent(id)
    polls.push({ id, chatId, secret, selectableCount })
  }
  return polls
}

/** Votes/s of `votes` through `engine`, with the CPU time this process spent; checks the tallies. */
async function ingest(engine: VoteEngine, votes: BenchVote[]): Promise<{ rate: number; cpuUsPerVote: number }> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(votes.map((v) => engine.ingestVote(v.raw)))
  const ms = performance.now() - start
  const cpuMs = cpuMsSince(cpu)
  check(engine.all(), votes)
  return { rate: votes.length / (ms / 1000), cpuUsPerVote: (cpuMs * 1000) / votes.length }
}

function check(all: Record<string, { results: Record<string, number> }>, votes: BenchVote[]): void {
  for (const [pollId, counts] of expectedResults(votes)) {
    const got = OPTIONS.map((o) => all[pollId]?.results[o])
    if (got.join() !== counts.join()) throw new Error(`poll ${pollId}: results ${got} ≠ expected ${counts}`)
  }
}

/**
 * 8. PostgreSQL: vote ingest through the real engine (group commit, decrypt, tally, one commit
 * per batch) on a PostgreSQL store against the SQLite store in the same run, both durable
 * (PostgreSQL: fsync and synchronous_commit on, a throwaway cluster on this machine over
 * 127.0.0.1; SQLite: WAL, synchronous=FULL); and on PostgreSQL with one webhook endpoint, whose
 * events commit in the same transactions.
 */
export async function benchPostgresIngest(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const cluster = pgCluster({ durable: true })
  const dir = tempDir('pg-sqlite')
  const stores: PostgresStore[] = []
  try {
    const url = await cluster.url()
    const pgEngine = async (schema: string, endpoint: boolean) => {
      const store = await openPostgresStore({ url, log: silent, schema })
      stores.push(store)
      if (endpoint) {
        await store.outbox.addEndpoint({ id: 'bench', url: 'http://127.0.0.1:9/bench', events: null, account: null, source: 'api', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
      }
      return { store, engine: await openEngineOn(store.account('default').votes, endpoint ? store.outbox : undefined) }
    }

    // JIT warm-up of both paths, not counted.
    {
      const warm = await pgEngine('bench_warm', false)
      const votes = makeVotes(await pollsOn(warm.engine, 10, 'warm'), 50, EXTRA, 99)
      await ingest(warm.engine, votes)
      await warm.engine.close()
      const s = await openEngine(tempDir('pg-warm'))
      await ingest(s.engine, makeVotes(await createPolls(s, 10), 50, EXTRA, 98))
      await s.engine.close()
      s.db.close()
      removeDir(s.dir)
    }

    const sqlite = await openEngine(dir)
    const sqlitePolls = await createPolls(sqlite, POLLS)
    const sqliteVotes = makeVotes(sqlitePolls, VOTERS, EXTRA, 7)
    const lite = await ingest(sqlite.engine, sqliteVotes)
    await sqlite.engine.close()
    sqlite.db.close()
    log(`  SQLite: ${Math.round(lite.rate)} votes/s (${Math.round(lite.cpuUsPerVote)} µs CPU/vote), ${sqliteVotes.length} votes`)

    const pg = await pgEngine('bench_pg', false)
    const t = performance.now()
    const pgPolls = await pollsOn(pg.engine, POLLS, 'pg')
    const pollMs = (performance.now() - t) / POLLS
    const pgVotes = makeVotes(pgPolls, VOTERS, EXTRA, 7)
    const post = await ingest(pg.engine, pgVotes)
    const stats = pg.engine.stats()
    await pg.engine.close()
    log(`  PostgreSQL: ${Math.round(post.rate)} votes/s (${Math.round(post.cpuUsPerVote)} µs CPU/vote in this process), ${pgVotes.length} votes; `
      + `a poll sent ${pollMs.toFixed(1)} ms (2 commits); stats ${JSON.stringify(stats)}`)

    const hooked = await pgEngine('bench_pg_webhook', true)
    const hookedVotes = makeVotes(await pollsOn(hooked.engine, POLLS, 'hook'), VOTERS, EXTRA, 7)
    const withEvents = await ingest(hooked.engine, hookedVotes)
    await hooked.engine.close()
    const backlog = (await hooked.store.outbox.backlog()).bench ?? 0
    log(`  PostgreSQL with a webhook endpoint: ${Math.round(withEvents.rate)} votes/s, ${backlog} deliveries written with the votes`)

    return {
      rows: [
        {
          section: '8. postgres', measure: `engine votes/s on PostgreSQL (${pgVotes.length.toLocaleString('en')} votes, ${POLLS} polls; fsync, synchronous_commit on, 127.0.0.1)`,
          value: post.rate, unit: 'votes/s', baseline: 'the same on SQLite (synchronous=FULL)', baselineValue: lite.rate,
          ratio: post.rate / lite.rate, target: '—', pass: null,
          note: `${Math.round(post.cpuUsPerVote)} µs CPU/vote in pollwire`,
        },
        {
          section: '8. postgres', measure: 'engine votes/s on PostgreSQL with one webhook endpoint (events in the vote transactions)',
          value: withEvents.rate, unit: 'votes/s', baseline: 'PostgreSQL, no endpoint', baselineValue: post.rate,
          ratio: withEvents.rate / post.rate, target: '—', pass: null, note: `${backlog.toLocaleString('en')} deliveries`,
        },
      ],
    }
  } finally {
    for (const s of stores) await s.close().catch(() => undefined)
    removeDir(dir)
    await cluster.stop()
  }
}

interface PgStart extends Start {
  /** from spawn until the log says this process owns the account (runtime/cluster.ts) */
  ownedMs: number
  ownedRssMb: number
  /** how many times the account's vote engine was loaded by then (once: built as owner at load) */
  loads: number
}

/**
 * 8. Restart over 100,000 journaled votes: the real server (`node dist/runtime/main.js`, nothing
 * to connect to) started on PostgreSQL (DATABASE_URL, a fresh database of a throwaway durable
 * cluster) against the same start on SQLite (DATA_DIR) in the same run; time from spawn until
 * GET /get-all-poll-data serves every poll, and RSS right then. Both stores are filled in this
 * process the way the server writes them: 1,000 polls sent through the engine, then 100,000
 * votes through ingestVote (openPostgresStore + createVoteEngine; openDb + createVoteEngine).
 * On PostgreSQL a lone process takes the account's advisory lock as it loads and builds it once,
 * as owner (before #15's fix: a follower copy that served, then the owner's built again); the
 * moment the log says it owns it, the RSS then and the number of engine loads go in the notes. Median of 3 starts each, after one warm start of each.
 */
export async function benchPostgresRestart(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const cluster = pgCluster({ durable: true })
  const sqliteDir = tempDir('restart-sqlite')
  // The PostgreSQL server's DATA_DIR holds only its lock file.
  const pgDir = tempDir('restart-pg')
  let drop: (() => Promise<void>) | undefined
  try {
    const db = await freshDatabase(await cluster.url(), 'pw_bench_restart')
    drop = db.drop
    let t = performance.now()
    const pgVotes = await fillPostgres(db.url)
    const pgFillS = (performance.now() - t) / 1000
    t = performance.now()
    const liteVotes = await fillSqlite(sqliteDir)
    log(`  filled: PostgreSQL ${pgVotes} votes in ${pgFillS.toFixed(1)} s, SQLite ${liteVotes} votes in ${((performance.now() - t) / 1000).toFixed(1)} s (${RESTART_POLLS} polls each)`)

    const onSqlite = () => start(sqliteDir, RESTART_POLLS)
    const onPostgres = () => start<PgStart>(pgDir, RESTART_POLLS, { DATABASE_URL: db.url }, async (s, started) => {
      const ownedMs = await untilOwner(s)
      const loads = s.logs.filter((l) => l.includes('"vote engine loaded"')).length
      return { ...started, ownedMs, ownedRssMb: s.rssMb(), loads }
    })
    await onSqlite() // page cache and PostgreSQL's buffers: every measured start is a warm one
    await onPostgres()
    const lite = await median(onSqlite)
    const post = await median(onPostgres)
    log(`  SQLite: ${Math.round(lite.ms)} ms (engine load ${lite.engineMs} ms), ${Math.round(lite.rssMb)} MB; PostgreSQL: ${Math.round(post.ms)} ms `
      + `(engine load ${post.engineMs} ms), ${Math.round(post.rssMb)} MB, owner after ${Math.round(post.ownedMs)} ms with ${Math.round(post.ownedRssMb)} MB, engine loaded ${post.loads}× (median of 3)`)
    const what = `${RESTART_POLLS.toLocaleString('en')} polls / ${pgVotes.toLocaleString('en')} journaled votes on PostgreSQL`
    return {
      rows: [
        { section: '8. postgres', measure: `start → /get-all-poll-data serving ${what}`, value: post.ms, unit: 'ms', baseline: 'the same data on SQLite', baselineValue: lite.ms,
          ratio: post.ms / lite.ms, target: '—', pass: null,
          note: `engine load ${post.engineMs} ms (SQLite ${lite.engineMs} ms), ${post.loads}× by the time it owns the account, after ${Math.round(post.ownedMs)} ms` },
        // Compared once each process holds the account as its owner: the SQLite one right after serving.
        { section: '8. postgres', measure: `RSS once the process owns the account, ${what}`, value: post.ownedRssMb, unit: 'MB', baseline: 'the same data on SQLite, right after serving', baselineValue: lite.rssMb,
          ratio: post.ownedRssMb / lite.rssMb, target: '—', pass: null, note: `${Math.round(post.rssMb)} MB when it first served` },
      ],
    }
  } finally {
    await drop?.().catch(() => undefined)
    await cluster.stop()
    removeDir(sqliteDir)
    removeDir(pgDir)
  }
}

async function untilOwner(s: Spawned): Promise<number> {
  return waitFor('the account owned', () => s.logs.some((l) => l.includes('this process owns the account now')) && performance.now() - s.spawnedAt, 30_000)
}

/** The restart bench's data on PostgreSQL, through the store the server opens (schema public, account default). */
export async function fillPostgres(url: string): Promise<number> {
  const store = await openPostgresStore({ url, log: silent })
  try {
    const engine = await openEngineOn(store.account('default').votes)
    const votes = makeVotes(await pollsOn(engine, RESTART_POLLS, 'restart'), RESTART_VOTERS, EXTRA, 11)
    await ingest(engine, votes)
    await engine.close()
    return votes.length
  } finally {
    await store.close()
  }
}

/** The same on SQLite (polls created with synchronous=OFF, votes durable). */
async function fillSqlite(dir: string): Promise<number> {
  const b = await openEngine(dir)
  try {
    const votes = makeVotes(await createPolls(b, RESTART_POLLS), RESTART_VOTERS, EXTRA, 11)
    await ingest(b.engine, votes)
    await b.engine.close()
    return votes.length
  } finally {
    b.db.close()
  }
}
