// What the main thread would save by handing a batch's journal rows to a writer thread (issue #16,
// ingest). Journal-shaped rows, 120,000 in batches of 5,000, inserted 32 and 8 to a statement as
// store/sqlite/votes.ts does, WAL + synchronous=FULL: first bound and inserted on the main thread,
// then posted to a worker (structured clone) that inserts them, one batch at a time.
// `node bench/experiments/journal-writer-thread.mjs`. Measured 2026-11-28 (2-core Xeon VM,
// quiet, three runs): on the main thread 7.3-7.7 µs a row; posted, 1.4-1.5 µs a row there, and
// the worker 9.7-10.0 µs a row, 6.7-6.9 of them inserting (the rest is taking the message apart).
import Database from 'libsql'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'

const N = 120_000
const BATCH = 5_000
const COLS = 'seq, poll_id, payload_hash, msg_id, chat_id, remote_jid_alt, participant, participant_alt, from_me, sender_ts, enc_payload, enc_iv, source, received_at, state, reason, dup_of, voter_key, creator_jid, voter_jid, selected, sel_mask, confirmed'
const TABLE = `CREATE TABLE vote_journal (seq INTEGER PRIMARY KEY, account TEXT NOT NULL DEFAULT 'default', poll_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL, msg_id TEXT, chat_id TEXT NOT NULL, remote_jid_alt TEXT, participant TEXT, participant_alt TEXT,
  from_me INTEGER NOT NULL, sender_ts INTEGER NOT NULL, enc_payload BLOB NOT NULL, enc_iv BLOB NOT NULL, source TEXT NOT NULL,
  received_at INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT, dup_of INTEGER, voter_key TEXT, creator_jid TEXT,
  voter_jid TEXT, selected TEXT, sel_mask INTEGER, confirmed INTEGER NOT NULL DEFAULT 0)`

const voter = (i) => `1555${i % 100_000}@s.whatsapp.net`
const row = (i) => [i + 1, `POLL${i % 1000}`, randomBytes(16).toString('hex'), `MSG${i}`, `1203630000${i % 50}@g.us`, null,
  voter(i), `9999${i}@lid`, 0, 1_700_000_000_000 + i, new Uint8Array(randomBytes(40)), new Uint8Array(randomBytes(12)), 'notify',
  1_700_000_000_000 + i, 'ok', null, null, voter(i), '15550000001@s.whatsapp.net', voter(i), 'h1,h2', 5, 1]

/** A journal in `dir` and its batch writer: one transaction a batch, 32 then 8 rows to a statement. */
function journal(dir) {
  const db = new Database(join(dir, 'journal.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(TABLE)
  const values = `('default', ${Array(23).fill('?').join(', ')})`
  const inserts = [32, 8].map((n) => [n, db.prepare(`INSERT INTO vote_journal (account, ${COLS}) VALUES ${Array(n).fill(values).join(', ')}`)])
  return (batch) => {
    db.exec('BEGIN IMMEDIATE')
    let at = 0
    for (const [n, stmt] of inserts) {
      while (batch.length - at >= n) {
        const args = []
        for (const end = at + n; at < end; at++) args.push(...batch[at])
        stmt.run(args)
      }
    }
    db.exec('COMMIT')
  }
}

if (!isMainThread) {
  const write = journal(workerData.dir)
  let writing = 0
  let rows = 0
  parentPort.on('message', (batch) => {
    const t = performance.now()
    write(batch)
    writing += performance.now() - t
    rows += batch.length
    parentPort.postMessage((writing * 1000) / rows)
  })
} else {
  const rows = Array.from({ length: N }, (_, i) => row(i))
  const mainDir = mkdtempSync(join(tmpdir(), 'journal-main-'))
  const workerDir = mkdtempSync(join(tmpdir(), 'journal-worker-'))
  try {
    const write = journal(mainDir)
    let t = performance.now()
    for (let b = 0; b < N; b += BATCH) write(rows.slice(b, b + BATCH))
    const here = ((performance.now() - t) * 1000) / N

    const worker = new Worker(new URL(import.meta.url), { workerData: { dir: workerDir } })
    await new Promise((resolve) => worker.once('online', resolve))
    let posting = 0
    let writing = 0
    t = performance.now()
    for (let b = 0; b < N; b += BATCH) {
      const p = performance.now()
      worker.postMessage(rows.slice(b, b + BATCH))
      posting += performance.now() - p
      writing = await new Promise((resolve) => worker.once('message', resolve))
    }
    const roundTrip = ((performance.now() - t) * 1000) / N
    await worker.terminate()
    console.log(`bound and inserted on the main thread: ${here.toFixed(2)} µs a row`)
    console.log(`posted to a worker: the main thread ${((posting * 1000) / N).toFixed(2)} µs a row; the worker ${roundTrip.toFixed(2)} µs a row, of which inserting ${writing.toFixed(2)}`)
  } finally {
    rmSync(mainDir, { recursive: true, force: true })
    rmSync(workerDir, { recursive: true, force: true })
  }
}
