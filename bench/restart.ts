import type { Row } from './table.ts'
import { logField, spawnServer, untilServing, type Spawned } from './server.ts'
import { removeDir, tempDir } from './votes.ts'

const RUNS = 3

export interface Start {
  ms: number
  rssMb: number
  engineMs: number
  /** the server's CPU time until it served (less swayed by other processes than the wall time) */
  cpuMs: number
}

/**
 * 4. Process start → GET /get-all-poll-data answering with every poll, for the real server
 * (`node dist/runtime/main.js` as `npm start` runs it, nothing to connect to) over a store the ingest bench
 * filled, and RSS once the account has tried to connect. Baseline: the same start over an empty DATA_DIR.
 */
export async function benchRestart(log: (s: string) => void, dataDir: string, polls: number, journalRows: number): Promise<{ rows: Row[] }> {
  const empty = tempDir('empty')
  try {
    await start(empty, 0) // the page cache: every measured start is a warm one
    const base = await median(() => start(empty, 0))
    const full = await median(() => start(dataDir, polls))
    log(`  empty: ${Math.round(base.ms)} ms (CPU ${base.cpuMs} ms), ${Math.round(base.rssMb)} MB; ${polls} polls / ${journalRows} rows: ${Math.round(full.ms)} ms (CPU ${full.cpuMs} ms, engine load ${full.engineMs} ms), ${Math.round(full.rssMb)} MB (median of ${RUNS})`)
    const what = `${polls.toLocaleString('en')} polls / ${journalRows.toLocaleString('en')} journaled votes`
    return {
      rows: [
        { section: '4. restart', measure: `start → /get-all-poll-data serving ${what}`, value: full.ms, unit: 'ms', baseline: 'same start, empty DATA_DIR', baselineValue: base.ms, ratio: full.ms / base.ms, target: '≤ 1,000 ms', pass: full.ms <= 1000, note: `engine load ${full.engineMs} ms; server CPU ${full.cpuMs} ms, empty ${base.cpuMs} ms` },
        { section: '4. restart', measure: `RSS after serving ${what}`, value: full.rssMb, unit: 'MB', baseline: 'same, empty DATA_DIR', baselineValue: base.rssMb, ratio: full.rssMb / base.rssMb, target: '≤ 150 MB', pass: full.rssMb <= 150 },
      ],
    }
  } finally {
    removeDir(empty)
  }
}

/**
 * One start of the real server over `dir` until it serves `polls` polls; `env` (e.g.
 * DATABASE_URL) goes to the server, `then` runs before it is stopped (more figures of the same start).
 */
export async function start<T extends Start = Start>(dir: string, polls: number, env?: Record<string, string>,
  then?: (s: Spawned, started: Start) => Promise<T>): Promise<T> {
  const s = await spawnServer(dir, { env })
  try {
    const ms = await untilServing(s, polls)
    const cpuMs = s.cpuMs()
    // RSS once Baileys is in too: the server serves before it imports Baileys (about 50 MB),
    // and the account's first connection attempt comes right after.
    await untilLogged(s, 'connection state', 5_000)
    const started: Start = { ms, cpuMs, rssMb: s.rssMb(), engineMs: Number(logField(s.logs, 'vote engine loaded', 'ms')) }
    return then ? await then(s, started) : started as T
  } finally {
    await s.stop()
  }
}

/** Waits (at most `timeoutMs`) for a log line with message `msg`. */
async function untilLogged(s: Spawned, msg: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!s.logs.some((l) => l.includes(`"msg":"${msg}"`)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

/** The start with the median time of RUNS starts. */
export async function median<T extends Start>(fn: () => Promise<T>): Promise<T> {
  const runs: T[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await fn())
  return runs.sort((a, b) => a.ms - b.ms)[Math.floor(RUNS / 2)]!
}
