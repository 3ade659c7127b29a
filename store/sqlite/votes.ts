import type { JournalCommit, PendingReason, PollRecord, PollStatus, RawVote, RowDerived, RowState, ScanRow, SenderRow, StoredVote, VoteJournal } from '../ports.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'

const STATE_CODE: Record<string, RowState> = { o: 'ok', p: 'pending', r: 'rejected', d: 'dup' }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS poll_record (
  id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL,
  question TEXT NOT NULL,
  options TEXT NOT NULL,
  option_hashes TEXT NOT NULL,
  selectable_count INTEGER NOT NULL,
  secret BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  creator_jid TEXT,
  updated_at INTEGER NOT NULL
);
-- One row per sighting of a vote, raw as it came off the wire, plus what was derived from
-- it. No secondary index: the engine keeps each poll's row numbers in memory, and an index
-- on poll_id would cost a third of the insert rate of the vote path.
CREATE TABLE IF NOT EXISTS vote_journal (
  seq INTEGER PRIMARY KEY,
  poll_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL,
  msg_id TEXT,
  chat_id TEXT NOT NULL,
  remote_jid_alt TEXT,
  participant TEXT,
  participant_alt TEXT,
  from_me INTEGER NOT NULL,
  sender_ts INTEGER NOT NULL,
  enc_payload BLOB NOT NULL,
  enc_iv BLOB NOT NULL,
  source TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  dup_of INTEGER,
  voter_key TEXT,
  creator_jid TEXT,
  voter_jid TEXT,
  selected TEXT,
  sel_mask INTEGER,
  confirmed INTEGER NOT NULL DEFAULT 0
);
-- Merged persons: a LID whose votes were counted before its phone number was known. A
-- restart folds those votes into the phone number's without asking Baileys again.
-- Pending rows only (a partial index costs nothing for the others): what a retry reads back.
CREATE INDEX IF NOT EXISTS vote_journal_pending ON vote_journal (poll_id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS vote_person (
  lid TEXT PRIMARY KEY,
  pn TEXT NOT NULL
) WITHOUT ROWID;
`

/** What names a row's sender (see SenderRow). */
const SENDER_COLS = 'poll_id, chat_id, participant, participant_alt, remote_jid_alt, from_me'

const JOURNAL_COLS = `seq, poll_id, payload_hash, msg_id, chat_id, remote_jid_alt, participant, participant_alt,
  from_me, sender_ts, enc_payload, enc_iv, source, received_at, state, reason, dup_of, voter_key, creator_jid,
  voter_jid, selected, sel_mask, confirmed`

/** The vote journal and the polls of one account in one SQLite database; no state of its own. */
export function createSqliteJournal(db: Db, health: WriteReporter): VoteJournal {
  db.exec(SCHEMA)
  const st = {
    insertPoll: db.prepare(`INSERT INTO poll_record (id, chat_id, question, options, option_hashes, selectable_count,
      secret, created_at, status, reason, creator_jid, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`),
    setStatus: db.prepare('UPDATE poll_record SET status = ?, reason = ?, updated_at = ? WHERE id = ?'),
    setCreator: db.prepare('UPDATE poll_record SET creator_jid = ? WHERE id = ?'),
    polls: db.prepare(`SELECT id, chat_id, question, options, option_hashes, selectable_count, secret, created_at,
      status, reason, creator_jid FROM poll_record ORDER BY created_at, rowid`),
    insertVote: db.prepare(`INSERT INTO vote_journal (${JOURNAL_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
    enrich: db.prepare(`UPDATE vote_journal SET msg_id = coalesce(msg_id, ?), remote_jid_alt = coalesce(remote_jid_alt, ?),
      participant = coalesce(participant, ?), participant_alt = coalesce(participant_alt, ?), confirmed = 1 WHERE seq = ?`),
    derive: db.prepare(`UPDATE vote_journal SET state = ?, reason = ?, voter_key = ?, creator_jid = ?, voter_jid = ?,
      selected = ?, sel_mask = ? WHERE seq = ?`),
    person: db.prepare('INSERT OR IGNORE INTO vote_person (lid, pn) VALUES (?, ?)'),
    persons: db.prepare('SELECT lid, pn FROM vote_person'),
    // One string per poll instead of one row object per vote: libsql materialises rows one by
    // one (about 3 µs each), SQLite concatenates at a fraction of that. Fields are separated by
    // the ASCII unit separator, which no JID, hash or number contains.
    scan: db.prepare(`SELECT poll_id, group_concat(seq || char(31) || payload_hash || char(31) || substr(state, 1, 1)
      || char(31) || ifnull(voter_key, '-') || char(31) || sender_ts || char(31)
      || coalesce(sel_mask, CASE WHEN state = 'ok' THEN 's' || selected END, '-'), char(31) ORDER BY seq)
      FROM vote_journal GROUP BY poll_id`),
    pending: db.prepare(`SELECT seq, payload_hash, reason, ${SENDER_COLS} FROM vote_journal WHERE state = 'pending' ORDER BY seq`),
    unconfirmed: db.prepare(`SELECT seq, payload_hash, NULL, ${SENDER_COLS} FROM vote_journal WHERE source = 'signal' AND confirmed = 0 ORDER BY seq`),
    seqsOfPoll: db.prepare('SELECT seq FROM vote_journal WHERE poll_id = ? ORDER BY seq'),
    expire: db.prepare(`UPDATE vote_journal SET state = 'rejected', reason = 'expired' WHERE seq = ? AND state = 'pending'`),
    pendingBefore: db.prepare(`SELECT seq FROM vote_journal WHERE state = 'pending' AND received_at < ? ORDER BY seq`),
    bySeqs: db.prepare(`SELECT ${JOURNAL_COLS} FROM vote_journal WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`),
    maxSeq: db.prepare('SELECT coalesce(max(seq), 0) AS m FROM vote_journal'),
  }

  const write = {
    poll(p: PollRecord, now: number): void {
      st.insertPoll.run([p.id, p.chatId, p.question, JSON.stringify(p.options), JSON.stringify(p.hashes),
        p.selectableCount, Buffer.from(p.secret), p.timestamp, p.status, p.reason ?? null, p.creatorJid ?? null, now])
    },
    vote(seq: number, hash: string, raw: RawVote, d: RowDerived, confirmed: boolean): void {
      st.insertVote.run([seq, raw.pollId, hash, raw.msgId ?? null, raw.chatId, raw.remoteJidAlt ?? null,
        raw.participant ?? null, raw.participantAlt ?? null, raw.fromMe ? 1 : 0, raw.senderTimestampMs,
        raw.encPayload, raw.encIv, raw.source, raw.receivedAt, d.state, d.reason ?? null, d.dupOf ?? null,
        d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null, d.selected ? d.selected.join(',') : null,
        d.mask ?? null, confirmed ? 1 : 0])
    },
    derived(seq: number, d: RowDerived): void {
      st.derive.run([d.state, d.reason ?? null, d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null,
        d.selected ? d.selected.join(',') : null, d.mask ?? null, seq])
    },
  }

  return {
    async polls() {
      return (st.polls.all() as Record<string, unknown>[]).map((r) => ({
        id: r.id as string,
        chatId: r.chat_id as string,
        question: r.question as string,
        options: JSON.parse(r.options as string) as string[],
        hashes: JSON.parse(r.option_hashes as string) as string[],
        selectableCount: r.selectable_count as number,
        secret: new Uint8Array(r.secret as Buffer),
        timestamp: r.created_at as number,
        status: r.status as PollStatus,
        reason: (r.reason as string | null) ?? undefined,
        creatorJid: (r.creator_jid as string | null) ?? undefined,
      }))
    },
    async persons() {
      return (st.persons.all() as Array<{ lid: string; pn: string }>).map((r) => ({ lid: r.lid, pn: r.pn }))
    },
    async *scan() {
      // One string per poll instead of one row object per vote: see the statement.
      for (const [pollId, packed] of st.scan.raw(true).all() as Array<[string, string]>) yield [pollId, unpack(packed)]
    },
    async pending() {
      return (st.pending.raw(true).all() as SenderTuple[]).map(senderRow)
    },
    async unconfirmed() {
      return (st.unconfirmed.raw(true).all() as SenderTuple[]).map(senderRow)
    },
    async maxSeq() {
      return (st.maxSeq.get() as { m: number }).m
    },
    async rows(seqs) {
      if (!seqs.length) return []
      return (st.bySeqs.all([JSON.stringify(seqs)]) as Record<string, unknown>[]).map(toStored)
    },
    async seqsOfPoll(pollId) {
      return (st.seqsOfPoll.raw(true).all([pollId]) as Array<[number]>).map((r) => r[0])
    },
    async pendingBefore(ms) {
      return (st.pendingBefore.raw(true).all([ms]) as Array<[number]>).map((r) => r[0])
    },
    async commit(c: JournalCommit) {
      const now = Date.now()
      try {
        tx(db, () => {
          for (const p of c.polls ?? []) write.poll(p, now)
          for (const v of c.votes ?? []) write.vote(v.seq, v.hash, v.raw, v.derived, v.confirmed)
          for (const d of c.derived ?? []) write.derived(d.seq, d.derived)
          for (const { seq, raw } of c.enrich ?? []) {
            st.enrich.run([raw.msgId ?? null, raw.remoteJidAlt ?? null, raw.participant ?? null, raw.participantAlt ?? null, seq])
          }
          for (const { lid, pn } of c.persons ?? []) st.person.run([lid, pn])
          for (const { id, jid } of c.creators ?? []) st.setCreator.run([jid, id])
          for (const { id, status, reason, at } of c.statuses ?? []) st.setStatus.run([status, reason ?? null, at, id])
          for (const seq of c.expire ?? []) st.expire.run([seq])
        })
      } catch (err) {
        health.failed(err, 'vote journal')
        throw err
      }
      health.committed()
    },
  }
}

function unpack(packed: string): ScanRow[] {
  const f = packed.split('\x1f')
  const rows: ScanRow[] = new Array(f.length / 6)
  for (let i = 0, j = 0; i < f.length; i += 6, j++) {
    const sel = f[i + 5]
    rows[j] = {
      seq: Number(f[i]),
      hash: f[i + 1],
      state: STATE_CODE[f[i + 2]],
      voterKey: f[i + 3] === '-' ? null : f[i + 3],
      senderTs: Number(f[i + 4]),
      mask: sel === '-' || sel[0] === 's' ? null : Number(sel),
      selected: sel[0] === 's' ? sel.slice(1) : null,
    }
  }
  return rows
}


type SenderTuple = [number, string, string | null, string, string, string | null, string | null, string | null, number]

function senderRow([seq, hash, reason, pollId, chatId, participant, participantAlt, remoteJidAlt, fromMe]: SenderTuple): SenderRow {
  return {
    seq,
    hash,
    reason: (reason ?? 'no_key') as PendingReason,
    raw: { pollId, chatId, participant: participant ?? undefined, participantAlt: participantAlt ?? undefined,
      remoteJidAlt: remoteJidAlt ?? undefined, fromMe: fromMe === 1 },
  }
}

function toStored(r: Record<string, unknown>): StoredVote {
  const opt = (v: unknown) => (v === null || v === undefined ? undefined : (v as string))
  const selected = opt(r.selected)
  return {
    seq: r.seq as number,
    hash: r.payload_hash as string,
    raw: {
      msgId: opt(r.msg_id),
      pollId: r.poll_id as string,
      chatId: r.chat_id as string,
      remoteJidAlt: opt(r.remote_jid_alt),
      participant: opt(r.participant),
      participantAlt: opt(r.participant_alt),
      fromMe: r.from_me === 1,
      senderTimestampMs: r.sender_ts as number,
      encPayload: new Uint8Array(r.enc_payload as Buffer),
      encIv: new Uint8Array(r.enc_iv as Buffer),
      source: r.source as RawVote['source'],
      receivedAt: r.received_at as number,
    },
    state: r.state as RowState,
    reason: opt(r.reason),
    dupOf: (r.dup_of as number | null) ?? undefined,
    voterKey: opt(r.voter_key),
    creatorJid: opt(r.creator_jid),
    voterJid: opt(r.voter_jid),
    selected: selected === undefined ? undefined : selected === '' ? [] : selected.split(','),
    mask: (r.sel_mask as number | null) ?? undefined,
    confirmed: r.confirmed === 1,
  }
}
