import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { openDb, type Db } from '../../../store/sqlite/db.ts'
import { createStoreHealth } from '../../../store/sqlite/health.ts'
import { migrate } from '../../../store/sqlite/schema.ts'
import { createSqliteJournal } from '../../../store/sqlite/votes.ts'
import type { JournalCommit, RawVote, RowDerived } from '../../../store/ports.ts'

const rows = suite<{ dir: string; db: Db }>('SQLite journal: a batch of rows', { dir: '', db: undefined as unknown as Db })
rows.before.each((w) => { w.dir = mkdtempSync(join(tmpdir(), 'pollwire-rows-')); w.db = openDb(w.dir); migrate(w.db) })
rows.after.each((w) => { w.db.close(); rmSync(w.dir, { recursive: true, force: true }) })

const derivedOf = (i: number): RowDerived => [
  { state: 'ok', voterKey: `${i}@s.whatsapp.net`, creatorJid: 'me@lid', voterJid: `${i}@lid`, selected: ['ha', 'hb'], mask: 3 },
  { state: 'pending', reason: 'no_key' },
  { state: 'dup', dupOf: 1 },
  { state: 'rejected', reason: 'unknown_option', creatorJid: 'me@lid', voterJid: `${i}@lid`, selected: ['ff'] },
][i % 4] as RowDerived

const voteOf = (i: number): NonNullable<JournalCommit['votes']>[number] => {
  const raw: RawVote = {
    pollId: `P${i % 3}`, chatId: 'c@g.us', msgId: i % 2 ? `M${i}` : undefined, participant: `${i}@lid`,
    participantAlt: i % 5 ? `${i}@s.whatsapp.net` : undefined, remoteJidAlt: i % 7 ? undefined : 'alt@lid', fromMe: i % 11 === 0,
    senderTimestampMs: 5000 + i, encPayload: new Uint8Array([i, 1, 2]), encIv: new Uint8Array(12).fill(i), source: i % 2 ? 'notify' : 'signal', receivedAt: 9000 + i,
  }
  return { seq: 100 + i, hash: `h${i}`, raw, derived: derivedOf(i), confirmed: i % 3 === 0 }
}

rows('every row of a 45-vote commit (statements of 32, 8 and 1 rows) reads back as given, and only for its account', async (w) => {
  const health = createStoreHealth({ db: w.db, log: pino({ level: 'silent' }) })
  const journal = createSqliteJournal(w.db, "o'neil", health)
  const other = createSqliteJournal(w.db, 'default', health)
  const votes = Array.from({ length: 45 }, (_, i) => voteOf(i))
  await journal.commit({ votes })
  const back = await journal.rows(votes.map((v) => v.seq))
  assert.is(back.length, 45)
  back.forEach((r, i) => {
    const v = votes[i]!
    const d = v.derived
    assert.equal([r.seq, r.hash, r.confirmed], [v.seq, v.hash, v.confirmed], `row ${i}`)
    assert.equal({ ...r.raw, encPayload: [...r.raw.encPayload], encIv: [...r.raw.encIv] },
      { ...v.raw, encPayload: [...v.raw.encPayload], encIv: [...v.raw.encIv] }, `raw of row ${i}`)
    assert.equal([r.state, r.reason, r.dupOf, r.voterKey, r.creatorJid, r.voterJid, r.mask],
      [d.state, d.reason, d.dupOf, d.voterKey, d.creatorJid, d.voterJid, d.mask], `derived of row ${i}`)
    if (d.selected) assert.equal(r.selected, d.selected)
  })
  assert.equal(await other.rows(votes.map((v) => v.seq)), [], "another account's journal does not see them")
})

/** Open descriptors of this process on the store's file (Linux's /proc). */
const openOnFile = (dir: string) =>
  readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === join(dir, 'pollwire.db') } catch { return false } }).length

rows('the scan reads every committed row, in order, on one second connection that every scan reuses', async (w) => {
  const journal = createSqliteJournal(w.db, 'default', createStoreHealth({ db: w.db, log: pino({ level: 'silent' }) }))
  const votes = Array.from({ length: 45 }, (_, i) => voteOf(i))
  await journal.commit({ votes: votes.slice(0, 30) })
  const before = openOnFile(w.dir)
  assert.ok(before >= 1, 'the store itself has the file open')
  const seqs = async () => { const out: number[] = []; for await (const chunk of journal.scan()) out.push(...chunk.map((r) => r.seq)); return out }
  assert.equal(await seqs(), votes.slice(0, 30).map((v) => v.seq))
  const during = openOnFile(w.dir)
  assert.is(during, before + 1, 'one more connection')
  await journal.commit({ votes: votes.slice(30) })
  assert.equal(await seqs(), votes.map((v) => v.seq), 'what the store committed since is read too')
  for (let i = 0; i < 5; i++) for await (const chunk of journal.scan()) { assert.ok(chunk.length); break }
  assert.is(openOnFile(w.dir), during, 'no connection per scan')
})

rows.run()
