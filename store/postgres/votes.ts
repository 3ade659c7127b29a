import type { JournalCommit, KeyRow, PollRecord, RawVote, RowDerived, VoteJournal } from '../ports.ts'
import { SCAN_CHUNK, scanText, senderRow, toPollRecord, toStored, unpackScan, type SenderTuple } from '../codec.ts'
import { arrays, bytes, rows, tx, type Pool, type PoolClient, type Queryable } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWriteAsync } from '../write-health.ts'
import type { PgOutbox } from './outbox.ts'


const SENDER_COLS = 'poll_id, chat_id, participant, participant_alt, remote_jid_alt, from_me'
const JOURNAL_COLS = `seq, poll_id, payload_hash, msg_id, chat_id, remote_jid_alt, participant, participant_alt,
  from_me, sender_ts, enc_payload, enc_iv, source, received_at, state, reason, dup_of, voter_key, creator_jid,
  voter_jid, selected, sel_mask, confirmed`

/**
 * Journal numbers of one account. VoteJournal.nextSeq() answers at once, PostgreSQL cannot:
 * the counter lives in the process that owns the account, started after the account's highest
 * number at open (and again with `reset` when ownership moves to this process).
 */
export interface SeqCounter { next(): number; reset(last: number): void }

export function seqCounter(last: number): SeqCounter {
  return { next: () => ++last, reset(n) { last = Math.max(last, n) } }
}

/** The highest journal number of every account with rows (one index probe per account). */
export async function maxSeqs(pool: Pool, schema: string): Promise<Map<string, number>> {
  const V = `"${schema}".vote_journal`
  const got = await arrays<[string, number]>(pool, `WITH RECURSIVE a(account) AS (
      SELECT min(account) FROM ${V}
      UNION ALL
      SELECT (SELECT min(account) FROM ${V} WHERE account > a.account) FROM a WHERE a.account IS NOT NULL)
    SELECT account, (SELECT max(seq) FROM ${V} v WHERE v.account = a.account) FROM a WHERE account IS NOT NULL`, [])
  return new Map(got)
}

/**
 * The vote journal and the polls of one account in PostgreSQL: each commit is one transaction
 * (BEGIN … COMMIT on one pooled connection), its webhook events included (written by the
 * outbox on the same connection, announced once committed).
 */
export function createPgJournal(pool: Pool, schema: string, account: string, health: WriteReporter, seqs: SeqCounter,
  outbox?: Pick<PgOutbox, 'appendEventsIn' | 'appended'>, writeKeys?: (c: Queryable, rows: KeyRow[]) => Promise<void>): VoteJournal {
  const P = `"${schema}".poll_record`
  const V = `"${schema}".vote_journal`
  const PE = `"${schema}".vote_person`

  const write = {
    async polls(c: PoolClient, polls: PollRecord[], now: number) {
      for (const p of polls) {
        await c.query(`INSERT INTO ${P} (account, id, chat_id, question, options, option_hashes, selectable_count, secret,
          created_at, status, reason, creator_jid, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [account, p.id, p.chatId, p.question, p.options, p.hashes, p.selectableCount, bytes(p.secret), p.timestamp,
          p.status, p.reason ?? null, p.creatorJid ?? null, now])
      }
    },
    async votes(c: PoolClient, votes: NonNullable<JournalCommit['votes']>) {
      const col = <T>(f: (v: (typeof votes)[number]) => T) => votes.map(f)
      await c.query(`INSERT INTO ${V} (account, ${JOURNAL_COLS}) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[],
        $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[], $11::bigint[], $12::bytea[], $13::bytea[],
        $14::text[], $15::bigint[], $16::text[], $17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[], $22::text[],
        $23::integer[], $24::boolean[])`, [
        account, col((v) => v.seq), col((v) => v.raw.pollId), col((v) => v.hash), col((v) => v.raw.msgId ?? null),
        col((v) => v.raw.chatId), col((v) => v.raw.remoteJidAlt ?? null), col((v) => v.raw.participant ?? null),
        col((v) => v.raw.participantAlt ?? null), col((v) => v.raw.fromMe), col((v) => v.raw.senderTimestampMs),
        col((v) => bytes(v.raw.encPayload)), col((v) => bytes(v.raw.encIv)), col((v) => v.raw.source), col((v) => v.raw.receivedAt),
        col((v) => v.derived.state), col((v) => v.derived.reason ?? null), col((v) => v.derived.dupOf ?? null),
        col((v) => v.derived.voterKey ?? null), col((v) => v.derived.creatorJid ?? null), col((v) => v.derived.voterJid ?? null),
        col((v) => (v.derived.selected ? v.derived.selected.join(',') : null)), col((v) => v.derived.mask ?? null),
        col((v) => v.confirmed),
      ])
    },
    async derived(c: PoolClient, list: NonNullable<JournalCommit['derived']>) {
      // One statement joins each row once: a row re-derived twice in one commit keeps the last.
      const last = [...new Map(list.map((d) => [d.seq, d.derived])).entries()]
      const col = <T>(f: (d: RowDerived) => T) => last.map(([, d]) => f(d))
      await c.query(`UPDATE ${V} v SET state = d.state, reason = d.reason, voter_key = d.voter_key, creator_jid = d.creator_jid,
        voter_jid = d.voter_jid, selected = d.selected, sel_mask = d.sel_mask
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::integer[])
          AS d(seq, state, reason, voter_key, creator_jid, voter_jid, selected, sel_mask)
        WHERE v.account = $1 AND v.seq = d.seq`, [
        account, last.map(([seq]) => seq), col((d) => d.state), col((d) => d.reason ?? null), col((d) => d.voterKey ?? null),
        col((d) => d.creatorJid ?? null), col((d) => d.voterJid ?? null), col((d) => (d.selected ? d.selected.join(',') : null)),
        col((d) => d.mask ?? null),
      ])
    },
    async enrich(c: PoolClient, list: NonNullable<JournalCommit['enrich']>) {
      // Enrichment fills only what is missing: of several in one commit, the first value wins.
      const merged = new Map<number, Pick<RawVote, 'msgId' | 'remoteJidAlt' | 'participant' | 'participantAlt'>>()
      for (const { seq, raw } of list) {
        const m = merged.get(seq) ?? {}
        merged.set(seq, { msgId: m.msgId ?? raw.msgId, remoteJidAlt: m.remoteJidAlt ?? raw.remoteJidAlt,
          participant: m.participant ?? raw.participant, participantAlt: m.participantAlt ?? raw.participantAlt })
      }
      const e = [...merged]
      await c.query(`UPDATE ${V} v SET msg_id = coalesce(v.msg_id, e.msg_id), remote_jid_alt = coalesce(v.remote_jid_alt, e.remote_jid_alt),
        participant = coalesce(v.participant, e.participant), participant_alt = coalesce(v.participant_alt, e.participant_alt), confirmed = true
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS e(seq, msg_id, remote_jid_alt, participant, participant_alt)
        WHERE v.account = $1 AND v.seq = e.seq`, [
        account, e.map(([seq]) => seq), e.map(([, r]) => r.msgId ?? null), e.map(([, r]) => r.remoteJidAlt ?? null),
        e.map(([, r]) => r.participant ?? null), e.map(([, r]) => r.participantAlt ?? null),
      ])
    },
    async persons(c: PoolClient, list: NonNullable<JournalCommit['persons']>) {
      const first = new Map<string, string>()
      for (const { lid, pn } of list) if (!first.has(lid)) first.set(lid, pn)
      await c.query(`INSERT INTO ${PE} (account, lid, pn) SELECT $1, * FROM unnest($2::text[], $3::text[])
        ON CONFLICT (account, lid) DO NOTHING`, [account, [...first.keys()], [...first.values()]])
    },
    async creators(c: PoolClient, list: NonNullable<JournalCommit['creators']>) {
      const last = [...new Map(list.map((x) => [x.id, x.jid]))]
      await c.query(`UPDATE ${P} p SET creator_jid = x.jid FROM unnest($2::text[], $3::text[]) AS x(id, jid)
        WHERE p.account = $1 AND p.id = x.id`, [account, last.map(([id]) => id), last.map(([, jid]) => jid)])
    },
    async statuses(c: PoolClient, list: NonNullable<JournalCommit['statuses']>) {
      const last = [...new Map(list.map((x) => [x.id, x])).values()]
      await c.query(`UPDATE ${P} p SET status = x.status, reason = x.reason, updated_at = x.at
        FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(id, status, reason, at)
        WHERE p.account = $1 AND p.id = x.id`,
      [account, last.map((x) => x.id), last.map((x) => x.status), last.map((x) => x.reason ?? null), last.map((x) => x.at)])
    },
    async expire(c: PoolClient, seqs: number[]) {
      await c.query(`UPDATE ${V} SET state = 'rejected', reason = 'expired' WHERE account = $1 AND seq = ANY ($2::bigint[]) AND state = 'pending'`,
        [account, seqs])
    },
  }

  return {
    async polls() {
      const got = await rows<Record<string, unknown>>(pool, `SELECT id, chat_id, question, options, option_hashes, selectable_count, secret,
        created_at, status, reason, creator_jid FROM ${P} WHERE account = $1 ORDER BY created_at, pos`, [account])
      return got.map(toPollRecord)
    },
    async persons() {
      return rows<{ lid: string; pn: string }>(pool, `SELECT lid, pn FROM ${PE} WHERE account = $1 ORDER BY lid`, [account])
    },
    async *scan() {
      // One string per chunk of rows instead of one row per vote (as the SQLite journal does),
      // in journal order along the primary key: a chunk after the last one, nothing sorted.
      for (let after = 0; ;) {
        const [got] = await arrays<[number, number | null, string | null]>(pool, `SELECT count(*)::int, max(seq), string_agg(seq || chr(31)
            || ${scanText.postgres('poll_id')} || chr(31) || payload_hash || chr(31) || left(state, 1) || chr(31) || coalesce(${scanText.postgres('voter_key')}, '-') || chr(31)
            || sender_ts || chr(31) || coalesce(sel_mask::text, CASE WHEN state = 'ok' THEN 's' || selected END, '-'), chr(31) ORDER BY seq)
          FROM (SELECT * FROM ${V} WHERE account = $1 AND seq > $2 ORDER BY seq LIMIT $3) j`, [account, after, SCAN_CHUNK.postgres])
        const [n, last, packed] = got!
        if (!n || last === null || packed === null) return
        yield* unpackScan(packed)
        after = Number(last)
      }
    },
    async pending() {
      return (await arrays<SenderTuple>(pool, `SELECT seq, payload_hash, reason, ${SENDER_COLS} FROM ${V}
        WHERE account = $1 AND state = 'pending' ORDER BY seq`, [account])).map(senderRow)
    },
    async unconfirmed() {
      return (await arrays<SenderTuple>(pool, `SELECT seq, payload_hash, NULL, ${SENDER_COLS} FROM ${V}
        WHERE account = $1 AND source = 'signal' AND NOT confirmed ORDER BY seq`, [account])).map(senderRow)
    },
    nextSeq: () => seqs.next(),
    async maxSeq() {
      const [r] = await arrays<[number]>(pool, `SELECT coalesce(max(seq), 0) FROM ${V} WHERE account = $1`, [account])
      return r![0]
    },
    async rows(list) {
      if (!list.length) return []
      const got = await rows<Record<string, unknown>>(pool, `SELECT ${JOURNAL_COLS} FROM ${V} WHERE account = $1 AND seq = ANY ($2::bigint[]) ORDER BY seq`,
        [account, [...new Set(list)]])
      return got.map(toStored)
    },
    async pollRows(pollId, from, to) {
      const got = await rows<Record<string, unknown>>(pool, `SELECT ${JOURNAL_COLS} FROM ${V} WHERE account = $1 AND seq BETWEEN $2 AND $3
        AND poll_id = $4 ORDER BY seq`, [account, from, to, pollId])
      return got.map(toStored)
    },
    async seqsOfPoll(pollId) {
      return (await arrays<[number]>(pool, `SELECT seq FROM ${V} WHERE account = $1 AND poll_id = $2 ORDER BY seq`, [account, pollId])).map((r) => r[0])
    },
    async pendingBefore(ms) {
      return (await arrays<[number]>(pool, `SELECT seq FROM ${V} WHERE account = $1 AND state = 'pending' AND received_at < $2 ORDER BY seq`,
        [account, ms])).map((r) => r[0])
    },
    async commit(ch: JournalCommit) {
      const now = Date.now()
      let delivered = 0
      await reportWriteAsync(health, 'vote journal', () => tx(pool, async (c) => {
        if (ch.polls?.length) await write.polls(c, ch.polls, now)
        if (ch.votes?.length) await write.votes(c, ch.votes)
        if (ch.derived?.length) await write.derived(c, ch.derived)
        if (ch.enrich?.length) await write.enrich(c, ch.enrich)
        if (ch.persons?.length) await write.persons(c, ch.persons)
        if (ch.creators?.length) await write.creators(c, ch.creators)
        if (ch.statuses?.length) await write.statuses(c, ch.statuses)
        if (ch.expire?.length) await write.expire(c, ch.expire)
        if (ch.events?.length) {
          if (!outbox) throw new Error('webhook events to write, but no outbox')
          delivered = await outbox.appendEventsIn(c, ch.events)
        }
        // The Signal-key update of each vote's message: one transaction with the vote (key-staging.ts).
        if (writeKeys) for (const a of ch.alongside ?? []) await writeKeys(c, a.take())
      }))
      if (delivered) outbox!.appended()
    },
  }
}


