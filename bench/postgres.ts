import type { WebhookEventType } from '../contract/webhooks.ts'
import { createEmitter } from '../contract/events.ts'
import { createIdentity } from '../core/identity.ts'
import { createVoteEngine, type VoteEngine } from '../core/votes/engine.ts'
import type { Outbox } from '../store/outbox-port.ts'
import type { VoteJournal } from '../store/ports.ts'
import { openPostgresStore, type PostgresStore } from '../store/postgres/index.ts'
import { pgCluster } from '../test/store/pg-harness.ts'
import { cpuMsSince, type Row } from './table.ts'
import {
  OPTIONS, OWN, createPolls, expectedResults, makeVotes, openEngine, removeDir, silent, tempDir,
  type BenchPoll, type BenchVote,
} from './votes.ts'

const POLLS = 200
const VOTERS = 100
const EXTRA = { replace: 10, retract: 5, dup: 5 }

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
 * 7. PostgreSQL: vote ingest through the real engine (group commit, decrypt, tally, one commit
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
          section: '7. postgres', measure: `engine votes/s on PostgreSQL (${pgVotes.length.toLocaleString('en')} votes, ${POLLS} polls; fsync, synchronous_commit on, 127.0.0.1)`,
          value: post.rate, unit: 'votes/s', baseline: 'the same on SQLite (synchronous=FULL)', baselineValue: lite.rate,
          ratio: post.rate / lite.rate, target: '—', pass: null,
          note: `${Math.round(post.cpuUsPerVote)} µs CPU/vote in pollwire`,
        },
        {
          section: '7. postgres', measure: 'engine votes/s on PostgreSQL with one webhook endpoint (events in the vote transactions)',
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
