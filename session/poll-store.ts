import type { Db } from './db.ts'
import type { PollStatus, RawVote } from './poll-types.ts'
import type { PendingReason } from './vote-derive.ts'

/** A poll as persisted: everything needed to show it and to decrypt its votes forever. */
export interface PollRecord {
  id: string
  chatId: string
  question: string
  options: string[]
  /** sha256 hex per option, same order */
  hashes: string[]
  selectableCount: number
  secret: Uint8Array
  /** ms */
  timestamp: number
  status: PollStatus
  reason?: string
  creatorJid?: string
}

export type RowState = 'ok' | 'pending' | 'rejected' | 'dup'

/** The derived columns of a journal row (the raw vote itself never changes, except enrichment). */
export interface RowDerived {
  state: RowState
  reason?: string
  dupOf?: number
  voterKey?: string
  creatorJid?: string
  voterJid?: string
  /** decrypted option hashes (hex), as the vote listed them */
  selected?: string[]
  /** counted options as a bitmask of option indices (ok rows of polls with up to 31 options) */
  mask?: number
}

export interface StoredVote extends RowDerived {
  seq: number
  hash: string
  raw: RawVote
  /** a Signal-layer sighting later confirmed (and enriched) by messages.upsert */
  confirmed: boolean
}

/** The slice of a row the engine folds on start: no payloads, no raw JIDs. */
export interface ScanRow {
  seq: number
  hash: string
  state: RowState
  voterKey: string | null
  senderTs: number
  mask: number | null
  /** only for counted rows without a mask (polls with more than 31 options) */
  selected: string | null
}

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

/** A journal row's number and hash with what names its sender: for the dedup and pending indexes. */
export interface SenderRow {
  seq: number
  hash: string
  reason: PendingReason
  raw: Pick<RawVote, 'pollId' | 'chatId' | 'participant' | 'participantAlt' | 'remoteJidAlt' | 'fromMe'>
}

const JOURNAL_COLS = `seq, poll_id, payload_hash, msg_id, chat_id, remote_jid_alt, participant, participant_alt,
  from_me, sender_ts, enc_payload, enc_iv, source, received_at, state, reason, dup_of, voter_key, creator_jid,
  voter_jid, selected, sel_mask, confirmed`

/** Schema and prepared statements of the poll store; no state of its own. */
export function createPollStore(db: Db) {
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

  return {
    insertPoll(p: PollRecord, now: number): void {
      st.insertPoll.run([p.id, p.chatId, p.question, JSON.stringify(p.options), JSON.stringify(p.hashes),
        p.selectableCount, Buffer.from(p.secret), p.timestamp, p.status, p.reason ?? null, p.creatorJid ?? null, now])
    },
    setStatus(id: string, status: PollStatus, reason: string | undefined, now: number): void {
      st.setStatus.run([status, reason ?? null, now, id])
    },
    setCreator(id: string, jid: string): void {
      st.setCreator.run([jid, id])
    },
    polls(): PollRecord[] {
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
    insertVote(seq: number, hash: string, raw: RawVote, d: RowDerived, confirmed: boolean): void {
      st.insertVote.run([seq, raw.pollId, hash, raw.msgId ?? null, raw.chatId, raw.remoteJidAlt ?? null,
        raw.participant ?? null, raw.participantAlt ?? null, raw.fromMe ? 1 : 0, raw.senderTimestampMs,
        raw.encPayload, raw.encIv, raw.source, raw.receivedAt, d.state, d.reason ?? null, d.dupOf ?? null,
        d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null, d.selected ? d.selected.join(',') : null,
        d.mask ?? null, confirmed ? 1 : 0])
    },
    /** A later sighting of the same vote fills what the first one lacked (the message id, alt JIDs). */
    enrich(seq: number, raw: RawVote): void {
      st.enrich.run([raw.msgId ?? null, raw.remoteJidAlt ?? null, raw.participant ?? null, raw.participantAlt ?? null, seq])
    },
    setDerived(seq: number, d: RowDerived): void {
      st.derive.run([d.state, d.reason ?? null, d.voterKey ?? null, d.creatorJid ?? null, d.voterJid ?? null,
        d.selected ? d.selected.join(',') : null, d.mask ?? null, seq])
    },
    addPerson(lid: string, pn: string): void {
      st.person.run([lid, pn])
    },
    persons(): Array<{ lid: string; pn: string }> {
      return (st.persons.all() as Array<{ lid: string; pn: string }>).map((r) => ({ lid: r.lid, pn: r.pn }))
    },
    /** Every journal row, grouped by poll, in journal order within each poll. */
    *scan(): Generator<[pollId: string, rows: ScanRow[]]> {
      for (const [pollId, packed] of st.scan.raw(true).all() as Array<[string, string]>) {
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
        yield [pollId, rows]
      }
    },
    /** Rows waiting for their poll or key, oldest first. */
    pending(): SenderRow[] {
      return (st.pending.raw(true).all() as SenderTuple[]).map(senderRow)
    },
    /** Signal-layer sightings no upsert confirmed yet, oldest first. */
    unconfirmed(): SenderRow[] {
      return (st.unconfirmed.raw(true).all() as SenderTuple[]).map(senderRow)
    },
    /** Every row of one poll, in journal order: a full scan, for the rare poll that arrives after its votes. */
    seqsOfPoll(pollId: string): number[] {
      return (st.seqsOfPoll.raw(true).all([pollId]) as Array<[number]>).map((r) => r[0])
    },
    /** Gives up on pending rows: kept in the journal, rejected as `expired`, never retried again. */
    expire(seqs: readonly number[]): void {
      for (const seq of seqs) st.expire.run([seq])
    },
    /** Pending rows received before `ms`. */
    pendingBefore(ms: number): number[] {
      return (st.pendingBefore.raw(true).all([ms]) as Array<[number]>).map((r) => r[0])
    },
    /** Full rows by journal number, in journal order. */
    bySeqs(seqs: readonly number[]): StoredVote[] {
      if (!seqs.length) return []
      return (st.bySeqs.all([JSON.stringify(seqs)]) as Record<string, unknown>[]).map(toStored)
    },
    maxSeq(): number {
      return (st.maxSeq.get() as { m: number }).m
    },
  }
}

export type PollStoreDb = ReturnType<typeof createPollStore>

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
