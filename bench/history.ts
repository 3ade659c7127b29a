import { randomBytes } from 'node:crypto'
import type { Row } from './table.ts'
import { median, start } from './restart.ts'
import { CREATOR, OPTIONS, removeDir, rng, shuffle, silent, synchronous, tempDir, voterLid, voterPn } from './votes.ts'
import { openDb } from '../store/sqlite/db.ts'
import { migrate } from '../store/sqlite/schema.ts'
import { createStoreHealth } from '../store/sqlite/health.ts'
import { createSqliteJournal } from '../store/sqlite/votes.ts'
import type { JournalCommit, PollRecord } from '../store/ports.ts'
import { optionHash, payloadHash } from '../core/votes/crypto.ts'

export const HISTORY_POLLS = Number(process.env.BENCH_HISTORY_POLLS ?? 10_000)
/** journal rows per poll: 80 first votes, 10 changed, 5 retracted, 5 delivered again */
const SHAPE = { voters: 80, replace: 10, retract: 5, dup: 5 }
const ROWS_PER_POLL = SHAPE.voters + SHAPE.replace + SHAPE.retract + SHAPE.dup
/** polls open at the same time: their votes interleave in the journal, as a day's traffic does */
const OPEN_AT_ONCE = 100
const HASHES = OPTIONS.map(optionHash)

export interface HistoryData { dir: string; polls: number; rows: number; currentVoters: number; counts: Map<string, number[]> }

/**
 * A journal with a long history: `polls` sent polls of 4 options, 100 rows each (1,000,000 rows
 * for 10,000 polls), written straight through the SQLite journal with synchronous=OFF (setup
 * only: no decryption, the rows carry what the engine would have derived). Payloads are random
 * bytes of a real vote's size, hashed as the engine hashes them. Returns each poll's expected
 * counts, to check what the restarted server shows.
 */
export async function buildHistory(dir: string, polls = HISTORY_POLLS, seed = 7, openAtOnce = OPEN_AT_ONCE): Promise<HistoryData> {
  const db = openDb(dir)
  migrate(db)
  db.pragma('synchronous = OFF')
  const journal = createSqliteJournal(db, 'default', createStoreHealth({ db, log: silent }))
  const rand = rng(seed)
  const counts = new Map<string, number[]>()
  let clock = Date.UTC(2024, 0, 1)
  let rows = 0
  let currentVoters = 0
  for (let from = 0; from < polls; from += openAtOnce) {
    const records: PollRecord[] = []
    const votes: NonNullable<JournalCommit['votes']> = []
    const later: Array<(seq: () => number) => NonNullable<JournalCommit['votes']>[number]> = []
    for (let i = from; i < Math.min(polls, from + openAtOnce); i++) {
      const id = `3EB0HIST${String(i).padStart(12, '0')}`
      const chatId = `1203631${String(i % 500).padStart(11, '0')}@g.us`
      const single = i % 2 === 0
      records.push({ id, chatId, question: `Question ${i}?`, options: OPTIONS, hashes: HASHES, selectableCount: single ? 1 : 0,
        secret: new Uint8Array(randomBytes(32)), timestamp: clock++, status: 'sent', creatorJid: CREATOR })
      const current = new Map<number, number[]>()
      const pick = (): number[] => {
        const a = Math.floor(rand() * OPTIONS.length)
        if (single || rand() < 0.5) return [a]
        return [...new Set([a, Math.floor(rand() * OPTIONS.length)])].sort((x, y) => x - y)
      }
      const who = shuffle([...Array(SHAPE.voters).keys()], rand)
      const firsts: Array<{ hash: string; voter: number }> = []
      // First votes, then changes, retractions and redeliveries, each at a later sender time.
      const plan: Array<{ voter: number; sel: number[] | null }> = []
      for (let v = 0; v < SHAPE.voters; v++) plan.push({ voter: v, sel: pick() })
      let k = 0
      for (let n = 0; n < SHAPE.replace; n++) plan.push({ voter: who[k++]!, sel: pick() })
      for (let n = 0; n < SHAPE.retract; n++) plan.push({ voter: who[k++]!, sel: [] })
      for (const { voter, sel } of plan) {
        current.set(voter, sel!)
        const encIv = new Uint8Array(randomBytes(12))
        const encPayload = new Uint8Array(randomBytes(18 + 34 * sel!.length))
        const hash = payloadHash(id, encIv, encPayload)
        const ts = clock++
        if (firsts.length < SHAPE.voters) firsts.push({ hash, voter })
        const mask = sel!.reduce((m, o) => m | (1 << o), 0)
        later.push((seq) => ({ seq: seq(), hash, confirmed: false, raw: raw(id, chatId, voter, ts, encIv, encPayload),
          derived: { state: 'ok', voterKey: voterPn(voter), creatorJid: CREATOR, voterJid: voterLid(voter), selected: sel!.map((o) => HASHES[o]!), mask } }))
      }
      const c = OPTIONS.map(() => 0)
      for (const sel of current.values()) for (const o of sel) c[o]!++
      counts.set(id, c)
      for (const sel of current.values()) if (sel.length) currentVoters++
      // Redeliveries of first votes (byte for byte): `dup` rows pointing at the first one.
      for (let n = 0; n < SHAPE.dup; n++) {
        const orig = firsts[who[k++]!]!
        later.push((seq) => ({ seq: seq(), hash: orig.hash, confirmed: false, raw: raw(id, chatId, orig.voter, clock++, new Uint8Array(12), new Uint8Array(0)),
          derived: { state: 'dup', dupOf: firstSeq.get(orig.hash)! } }))
      }
    }
    // Journal order: the polls open at once interleave, each poll's own rows in their order.
    const firstSeq = new Map<string, number>()
    const queues = records.map((_, j) => later.slice(j * ROWS_PER_POLL, (j + 1) * ROWS_PER_POLL))
    const order = shuffle(queues.flatMap((q, j) => q.map(() => j)), rand)
    const next = queues.map(() => 0)
    for (const j of order) {
      const v = queues[j]![next[j]!++]!(() => journal.nextSeq())
      if (v.derived.state !== 'dup' && !firstSeq.has(v.hash)) firstSeq.set(v.hash, v.seq)
      votes.push(v)
    }
    await journal.commit({ polls: records, votes })
    rows += votes.length
  }
  db.pragma('synchronous = FULL')
  if (synchronous(db) !== 2) throw new Error('synchronous is not FULL')
  db.close()
  return { dir, polls, rows, currentVoters, counts }
}

function raw(pollId: string, chatId: string, voter: number, ts: number, encIv: Uint8Array, encPayload: Uint8Array) {
  return { msgId: `HIST${ts.toString(16).toUpperCase()}`, pollId, chatId, participant: voterLid(voter), participantAlt: voterPn(voter),
    fromMe: false, senderTimestampMs: ts, encPayload, encIv, source: 'notify' as const, receivedAt: ts }
}

/**
 * 4b. The restart with a long history (issue #16): process start → GET /get-all-poll-data
 * answering with all 10,000 polls over 1,000,000 journaled votes, and RSS right after; the
 * restarted server must show every poll's expected counts. Baseline: the same start over an
 * empty DATA_DIR.
 */
export async function benchHistory(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const dir = tempDir('history')
  const empty = tempDir('history-empty')
  try {
    const t = performance.now()
    const data = await buildHistory(dir)
    log(`  built ${data.rows.toLocaleString('en')} journal rows over ${data.polls.toLocaleString('en')} polls (${data.currentVoters.toLocaleString('en')} current voters) in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`)
    await start(empty, 0) // the page cache: every measured start is a warm one
    await start(dir, data.polls)
    const base = await median(() => start(empty, 0))
    let checked = false
    const full = await median(() => start(dir, data.polls, undefined, async (s, started) => {
      if (!checked) { await check(s.url, data.counts); checked = true }
      return started
    }))
    log(`  empty: ${Math.round(base.ms)} ms (CPU ${base.cpuMs} ms), ${Math.round(base.rssMb)} MB; ${data.polls} polls / ${data.rows} rows: ${Math.round(full.ms)} ms (CPU ${full.cpuMs} ms, engine load ${full.engineMs} ms), ${Math.round(full.rssMb)} MB (median of 3)`)
    const what = `${data.polls.toLocaleString('en')} polls / ${data.rows.toLocaleString('en')} journaled votes (${data.currentVoters.toLocaleString('en')} current voters)`
    return {
      rows: [
        { section: '4. restart', measure: `start → /get-all-poll-data serving ${what}`, value: full.ms, unit: 'ms', baseline: 'same start, empty DATA_DIR', baselineValue: base.ms,
          ratio: full.ms / base.ms, target: '≤ 3,000 ms', pass: full.ms <= 3000, note: `engine load ${full.engineMs} ms; server CPU ${full.cpuMs} ms, empty ${base.cpuMs} ms` },
        { section: '4. restart', measure: `RSS after serving ${what}`, value: full.rssMb, unit: 'MB', baseline: 'same, empty DATA_DIR', baselineValue: base.rssMb,
          ratio: full.rssMb / base.rssMb, target: '≤ 250 MB', pass: full.rssMb <= 250 },
      ],
    }
  } finally {
    removeDir(dir)
    removeDir(empty)
  }
}

/** The served counts of every poll against the expected ones: a fast start that shows wrong tallies does not count. */
async function check(url: string, counts: Map<string, number[]>): Promise<void> {
  const body = (await (await fetch(`${url}/get-all-poll-data`)).json()) as { polls: Record<string, { results: Record<string, number> }> }
  for (const [id, want] of counts) {
    const got = body.polls[id]?.results
    if (!got || OPTIONS.some((o, i) => got[o] !== want[i])) throw new Error(`poll ${id}: served ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  }
}
