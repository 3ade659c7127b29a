import type { JournalCommit, KeyRow, PollRecord, RowDerived, VoteJournal } from '../ports.ts'
import { SCAN_CHUNK, scanText, senderRow, toPollRecord, toStored, unpackScan, type SenderTuple } from '../codec.ts'
import { readerOf, tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWrite } from '../write-health.ts'
import type { Outbox } from '../outbox-port.ts'



/**
 * The journal from a row number on, a chunk at a time. One string per chunk of rows instead of
 * one row object per vote: libsql materialises rows one by one (about 2 µs each), SQLite
 * concatenates at a fraction of that (codec.ts unpackScan). In journal (rowid) order, as the
 * subquery hands the rows over: nothing is sorted (an ORDER BY inside group_concat costs 40%
 * more), a chunk after the last one.
 */
const SCAN_SQL = `SELECT count(*), max(seq), group_concat(seq || char(31) || ${scanText.sqlite('poll_id')} || char(31) || payload_hash || char(31)
      || substr(state, 1, 1) || char(31) || ifnull(${scanText.sqlite('voter_key')}, '-') || char(31) || sender_ts || char(31)
      || coalesce(sel_mask, CASE WHEN state = 'ok' THEN 's' || selected END, '-'), char(31))
      FROM (SELECT seq, poll_id, payload_hash, state, voter_key, sender_ts, sel_mask, selected FROM vote_journal
        WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?)`

/** What names a row's sender (see SenderRow). */
const SENDER_COLS = 'poll_id, chat_id, participant, participant_alt, remote_jid_alt, from_me'

const JOURNAL_COLS = `seq, poll_id, payload_hash, msg_id, chat_id, remote_jid_alt, participant, participant_alt,
  from_me, sender_ts, enc_payload, enc_iv, source, received_at, state, reason, dup_of, voter_key, creator_jid,
  voter_jid, selected, sel_mask, confirmed`

/** Rows per insert statement, largest first (23 bound values a row: 736 at most, far under SQLite's limit). */
const VOTE_CHUNKS = [32, 8, 1]

/** Journal numbers, unique in the whole file: shared by the journals of every account. */
export interface SeqCounter { next(): number }

/** A counter starting after the highest journal number in the file (one process holds it: the DATA_DIR lock). */
export function seqCounter(db: Db): SeqCounter {
  let last = (db.prepare('SELECT coalesce(max(seq), 0) AS m FROM vote_journal').get() as { m: number }).m
  return { next: () => ++last }
}

/**
 * The vote journal and the polls of one account in the SQLite file (schema.ts); no state of its
 * own but the shared journal-number counter.
 */
export function createSqliteJournal(db: Db, account: string, health: WriteReporter, seqs: SeqCounter = seqCounter(db),
  outbox?: Pick<Outbox, 'appendEvents'>, writeKeys?: (rows: KeyRow[]) => void): VoteJournal {
  const st = {
    insertPoll: db.prepare(`INSERT INTO poll_record (account, id, chat_id, question, options, option_hashes, selectable_count,
      secret, created_at, status, reason, creator_jid, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`),
    setStatus: db.prepare('UPDATE poll_record SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND account = ?'),
    setCreator: db.prepare('UPDATE poll_record SET creator_jid = ? WHERE id = ? AND account = ?'),
    polls: db.prepare(`SELECT id, chat_id, question, options, option_hashes, selectable_count, secret, created_at,
      status, reason, creator_jid FROM poll_record WHERE account = ? ORDER BY created_at, rowid`),
    enrich: db.prepare(`UPDATE vote_journal SET msg_id = coalesce(msg_id, ?), remote_jid_alt = coalesce(remote_jid_alt, ?),
      participant = coalesce(participant, ?), participant_alt = coalesce(participant_alt, ?), confirmed = 1 WHERE seq = ? AND account = ?`),
    derive: db.prepare(`UPDATE vote_journal SET state = ?, reason = ?, voter_key = ?, creator_jid = ?, voter_jid = ?,
      selected = ?, sel_mask = ? WHERE seq = ? AND account = ?`),
    person: db.prepare('INSERT OR IGNORE INTO vote_person (account, lid, pn) VALUES (?, ?, ?)'),
    persons: db.prepare('SELECT lid, pn FROM vote_person WHERE account = ?'),
    /** an in-memory store's scan (a file's has a connection of its own: scan()) */
    scan: db.prepare(SCAN_SQL),
    pending: db.prepare(`SELECT seq, payload_hash, reason, ${SENDER_COLS} FROM vote_journal WHERE account = ? AND state = 'pending' ORDER BY seq`),
    unconfirmed: db.prepare(`SELECT seq, payload_hash, NULL, ${SENDER_COLS} FROM vote_journal WHERE account = ? AND source = 'signal' AND confirmed = 0 ORDER BY seq`),
    seqsOfPoll: db.prepare('SELECT seq FROM vote_journal WHERE account = ? AND poll_id = ? ORDER BY seq'),
    // A range of the primary key: the poll's rows and the others' between them, no more.
    pollRows: db.prepare(`SELECT ${JOURNAL_COLS} FROM vote_journal WHERE account = ? AND seq BETWEEN ? AND ? AND poll_id = ? ORDER BY seq`),
    expire: db.prepare(`UPDATE vote_journal SET state = 'rejected', reason = 'expired' WHERE seq = ? AND account = ? AND state = 'pending'`),
    pendingBefore: db.prepare(`SELECT seq FROM vote_journal WHERE account = ? AND state = 'pending' AND received_at < ? ORDER BY seq`),
    bySeqs: db.prepare(`SELECT ${JOURNAL_COLS} FROM vote_journal WHERE account = ? AND seq IN (SELECT value FROM json_each(?)) ORDER BY seq`),
    maxSeq: db.prepare('SELECT coalesce(max(seq), 0) AS m FROM vote_journal WHERE account = ?'),
  }

  let scanOnReader: ReturnType<Db['prepare']> | undefined
  const voteRow = `('${account.replaceAll("'", "''")}', ${Array(23).fill('?').join(', ')})`
  const voteInserts = new Map<number, ReturnType<Db['prepare']>>()
  const insertVotes = (rows: number) => {
    let stmt = voteInserts.get(rows)
    if (!stmt) voteInserts.set(rows, (stmt = db.prepare(`INSERT INTO vote_journal (account, ${JOURNAL_COLS}) VALUES ${Array(rows).fill(voteRow).join(', ')}`)))
    return stmt
  }

  const write = {
    poll(p: PollRecord, now: number): void {
      st.insertPoll.run([account, p.id, p.chatId, p.question, JSON.stringify(p.options), JSON.stringify(p.hashes),
        p.selectableCount, Buffer.from(p.secret), p.timestamp, p.status, p.reason ?? null, p.creatorJid ?? null, now])
    },
    /**
     * A batch's journal rows, VOTE_CHUNKS rows to a statement: each call into libsql has a fixed
     * cost that a group commit of thousands of votes paid per row. The account is a literal of
     * the statement, not a bound value (23 a row instead of 24).
     */
    votes(list: NonNullable<JournalCommit['votes']>): void {
      const args: unknown[] = []
      let at = 0
      for (const size of VOTE_CHUNKS) {
        while (list.length - at >= size) {
          args.length = 0
          for (const end = at + size; at < end; at++) {
            const { seq, hash, raw, derived: d, confirmed } = list[at]!
            args.push(seq, raw.pollId, hash, raw.msgId ?? null, raw.chatId, raw.remoteJidAlt ?? null,
              raw.participant ?? null, raw.participantAlt ?? null, raw.fromMe ? 1 : 0, raw.senderTimestampMs,
              raw.encPayload, raw.encIv, raw.source, raw.receivedAt, d.state, d.reason ?? null, d.dupOf ?? null,
              d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null, d.selected ? d.selected.join(',') : null,
              d.mask ?? null, confirmed ? 1 : 0)
          }
          insertVotes(size).run(args)
        }
      }
    },
    derived(seq: number, d: RowDerived): void {
      st.derive.run([d.state, d.reason ?? null, d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null,
        d.selected ? d.selected.join(',') : null, d.mask ?? null, seq, account])
    },
  }

  return {
    async polls() {
      return (st.polls.all([account]) as Record<string, unknown>[]).map(toPollRecord)
    },
    async persons() {
      return (st.persons.all([account]) as Array<{ lid: string; pn: string }>).map((r) => ({ lid: r.lid, pn: r.pn }))
    },
    async *scan() {
      // On a connection of its own: on the one that also holds the store's other prepared
      // statements, this query (a dozen string concatenations a row) ran at half the speed,
      // 1.5 s instead of 0.8 s for 1,000,000 rows (bench/README.md, issue #16). Only committed
      // rows are read either way: nothing awaits inside a transaction (tx() is synchronous).
      const scan = (scanOnReader ??= readerOf(db)?.prepare(SCAN_SQL)) ?? st.scan
      for (let after = 0; ;) {
        const [n, last, packed] = scan.raw(true).get([account, after, SCAN_CHUNK.sqlite]) as [number, number | null, string | null]
        if (!n || last === null || packed === null) return
        yield* unpackScan(packed)
        after = last
      }
    },
    async pending() {
      return (st.pending.raw(true).all([account]) as SenderTuple[]).map(senderRow)
    },
    async unconfirmed() {
      return (st.unconfirmed.raw(true).all([account]) as SenderTuple[]).map(senderRow)
    },
    nextSeq: () => seqs.next(),
    async maxSeq() {
      return (st.maxSeq.get([account]) as { m: number }).m
    },
    async rows(seqs) {
      if (!seqs.length) return []
      return (st.bySeqs.all([account, JSON.stringify(seqs)]) as Record<string, unknown>[]).map(toStored)
    },
    async seqsOfPoll(pollId) {
      return (st.seqsOfPoll.raw(true).all([account, pollId]) as Array<[number]>).map((r) => r[0])
    },
    async pollRows(pollId, from, to) {
      return (st.pollRows.all([account, from, to, pollId]) as Record<string, unknown>[]).map(toStored)
    },
    async pendingBefore(ms) {
      return (st.pendingBefore.raw(true).all([account, ms]) as Array<[number]>).map((r) => r[0])
    },
    async commit(c: JournalCommit) {
      const now = Date.now()
      reportWrite(health, 'vote journal', () => tx(db, () => {
        for (const p of c.polls ?? []) write.poll(p, now)
        if (c.votes?.length) write.votes(c.votes)
        for (const d of c.derived ?? []) write.derived(d.seq, d.derived)
        for (const { seq, raw } of c.enrich ?? []) {
          st.enrich.run([raw.msgId ?? null, raw.remoteJidAlt ?? null, raw.participant ?? null, raw.participantAlt ?? null, seq, account])
        }
        for (const { lid, pn } of c.persons ?? []) st.person.run([account, lid, pn])
        for (const { id, jid } of c.creators ?? []) st.setCreator.run([jid, id, account])
        for (const { id, status, reason, at } of c.statuses ?? []) st.setStatus.run([status, reason ?? null, at, id, account])
        for (const seq of c.expire ?? []) st.expire.run([seq, account])
        if (c.events?.length) {
          if (!outbox) throw new Error('webhook events to write, but no outbox')
          outbox.appendEvents(c.events)
        }
        // The Signal-key update of each vote's message: one transaction with the vote (key-staging.ts).
        if (writeKeys) for (const a of c.alongside ?? []) writeKeys(a.take())
      }))
    },
  }
}
