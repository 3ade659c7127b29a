import type { AuthenticationCreds, SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys'
import { userOf } from '../../contract/jid.ts'
import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { Outbox } from '../outbox-port.ts'
import { memoryCampaigns } from './campaigns.ts'
import { createMemoryOutbox } from './outbox.ts'
import type { AccountStore, AuthState, ChatTable, JournalCommit, KeyRow, PollRecord, ScanRow, SenderRow, Store, StoredVote, VoteJournal } from '../ports.ts'
import { createKeyStaging, keyRows, lidPairsIn } from '../key-staging.ts'
import { decodeAuthValue, decodeLidMapping, encodeAuthValue, loadAuthCodec } from '../codec.ts'

/**
 * The store port in memory: what unit tests and tools use when they do not care about files.
 * It keeps what SQLite keeps and answers what SQLite answers (test/store/contract.ts checks
 * both); a commit is applied to a copy first, so a failing one changes nothing.
 */
export function createMemoryStore(): Store & { failWrites(err: Error | null): void } {
  const accounts = new Map<string, AccountStore>()
  let failing: Error | null = null
  const check = () => { if (failing) throw failing }
  // Journal numbers are unique in the store, whatever the account, as in SQLite.
  let lastSeq = 0
  const nextSeq = () => ++lastSeq
  const outbox = createMemoryOutbox()
  const registered = new Set(['default'])
  return {
    outbox,
    async accounts() { return [...registered] },
    async addAccount(id) {
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      check()
      if (registered.has(id)) return false
      registered.add(id)
      return true
    },
    async removeAccount(id, purge) {
      if (id === 'default') throw new Error('the default account cannot be removed')
      check()
      const removed = registered.delete(id)
      const a = accounts.get(id)
      if (a) {
        await a.auth.clear()
        await a.chats.clear()
        // The journal and polls stay for a later add of the same id, unless purged.
        if (purge) accounts.delete(id)
      }
      return removed
    },
    account(id) {
      let a = accounts.get(id)
      if (!a) {
        const auth = memoryAuth(check)
        accounts.set(id, (a = { auth, chats: memoryChats(check), votes: memoryJournal(check, nextSeq, outbox, auth.writeRows),
          campaigns: memoryCampaigns(check, outbox) }))
      }
      return a
    },
    health: { ok: () => failing === null },
    async close() { accounts.clear() },
    /** makes every write fail with `err` (a full disk, for tests), or work again with null */
    failWrites(err) { failing = err },
  }
}

const copy = <T>(v: T): T => structuredClone(v)

function memoryJournal(check: () => void, nextSeq: () => number, outbox: Pick<Outbox, 'appendEvents'>, writeKeys: (rows: KeyRow[]) => void): VoteJournal {
  let polls = new Map<string, PollRecord>()
  let rows = new Map<number, StoredVote>()
  let persons = new Map<string, string>()
  const senderRow = (r: StoredVote): SenderRow => ({
    seq: r.seq, hash: r.hash, reason: (r.reason ?? 'no_key') as SenderRow['reason'],
    raw: { pollId: r.raw.pollId, chatId: r.raw.chatId, participant: r.raw.participant, participantAlt: r.raw.participantAlt, remoteJidAlt: r.raw.remoteJidAlt, fromMe: r.raw.fromMe },
  })
  const sorted = () => [...rows.values()].sort((a, b) => a.seq - b.seq)
  return {
    async polls() { return [...polls.values()].sort((a, b) => a.timestamp - b.timestamp).map(copy) },
    async persons() { return [...persons].map(([lid, pn]) => ({ lid, pn })) },
    async *scan() {
      // In chunks of 2, so that the engine's tests cross chunk boundaries.
      const all = sorted()
      for (let i = 0; i < all.length; i += 2) {
        yield all.slice(i, i + 2).map((r): ScanRow => ({
          seq: r.seq, pollId: r.raw.pollId, hash: r.hash, state: r.state, voterKey: r.voterKey ?? null, senderTs: r.raw.senderTimestampMs,
          mask: r.mask ?? null, selected: r.state === 'ok' && r.mask === undefined ? (r.selected ?? []).join(',') : null,
        }))
      }
    },
    async pending() { return sorted().filter((r) => r.state === 'pending').map(senderRow) },
    async unconfirmed() { return sorted().filter((r) => r.raw.source === 'signal' && !r.confirmed).map(senderRow) },
    async maxSeq() { return Math.max(0, ...rows.keys()) },
    nextSeq,
    async rows(seqs) { return [...new Set(seqs)].sort((a, b) => a - b).flatMap((s) => (rows.has(s) ? [whole(copy(rows.get(s)!))] : [])) },
    async seqsOfPoll(pollId) { return sorted().filter((r) => r.raw.pollId === pollId).map((r) => r.seq) },
    async pollRows(pollId, from, to) { return sorted().filter((r) => r.raw.pollId === pollId && r.seq >= from && r.seq <= to).map((r) => whole(copy(r))) },
    async pendingBefore(ms) { return sorted().filter((r) => r.state === 'pending' && r.raw.receivedAt < ms).map((r) => r.seq) },
    async commit(c: JournalCommit) {
      apply(c)
      // As in a database transaction: the Signal keys of these votes' messages with them.
      for (const a of c.alongside ?? []) writeKeys(a.take())
    },
  }

  function apply(c: JournalCommit): void {
    check()
    const p2 = new Map(polls), r2 = new Map(rows), pe2 = new Map(persons)
    for (const p of c.polls ?? []) {
      if (p2.has(p.id)) throw new Error(`UNIQUE constraint failed: poll_record.id (${p.id})`)
      p2.set(p.id, copy(p))
    }
    for (const v of c.votes ?? []) {
      if (r2.has(v.seq)) throw new Error(`UNIQUE constraint failed: vote_journal.seq (${v.seq})`)
      r2.set(v.seq, copy({ seq: v.seq, hash: v.hash, raw: v.raw, confirmed: v.confirmed, ...v.derived }))
    }
    for (const d of c.derived ?? []) {
      const r = r2.get(d.seq)
      if (r) r2.set(d.seq, { seq: r.seq, hash: r.hash, raw: r.raw, confirmed: r.confirmed, ...copy(d.derived), dupOf: r.dupOf })
    }
    for (const { seq, raw } of c.enrich ?? []) {
      const r = r2.get(seq)
      if (!r) continue
      r2.set(seq, { ...r, confirmed: true, raw: { ...r.raw, msgId: r.raw.msgId ?? raw.msgId, remoteJidAlt: r.raw.remoteJidAlt ?? raw.remoteJidAlt,
        participant: r.raw.participant ?? raw.participant, participantAlt: r.raw.participantAlt ?? raw.participantAlt } })
    }
    for (const { lid, pn } of c.persons ?? []) if (!pe2.has(lid)) pe2.set(lid, pn)
    for (const { id, jid } of c.creators ?? []) { const p = p2.get(id); if (p) p2.set(id, { ...p, creatorJid: jid }) }
    for (const { id, status, reason } of c.statuses ?? []) { const p = p2.get(id); if (p) p2.set(id, { ...p, status, reason }) }
    for (const seq of c.expire ?? []) { const r = r2.get(seq); if (r?.state === 'pending') r2.set(seq, { ...r, state: 'rejected', reason: 'expired' }) }
    polls = p2; rows = r2; persons = pe2
    if (c.events?.length) outbox.appendEvents(c.events)
  }
}

/** Every field present, unset ones as undefined: what a database row reads back as. */
function whole(r: StoredVote): StoredVote {
  const { raw } = r
  return {
    seq: r.seq, hash: r.hash, confirmed: r.confirmed,
    raw: { msgId: raw.msgId, pollId: raw.pollId, chatId: raw.chatId, remoteJidAlt: raw.remoteJidAlt, participant: raw.participant,
      participantAlt: raw.participantAlt, fromMe: raw.fromMe, senderTimestampMs: raw.senderTimestampMs, encPayload: raw.encPayload,
      encIv: raw.encIv, source: raw.source, receivedAt: raw.receivedAt },
    state: r.state, reason: r.reason, dupOf: r.dupOf, voterKey: r.voterKey, creatorJid: r.creatorJid, voterJid: r.voterJid,
    selected: r.selected, mask: r.mask,
  }
}

function memoryChats(check: () => void): ChatTable {
  const chats = new Map<string, string | null>()
  return {
    async all() { return [...chats].map(([id, name]) => ({ id, name })) },
    async upsert(list) {
      check()
      for (const { id, name } of list) chats.set(id, name ?? chats.get(id) ?? null)
    },
    async clear() { check(); chats.clear() },
  }
}

function memoryAuth(check: () => void): AuthState & { writeRows(rows: KeyRow[]): void } {
  let creds: string | null = null
  const keys = new Map<string, string>()
  const listeners = new Set<(pairs: Array<{ lid: string; pn: string }>) => void>()
  const key = (type: string, id: string) => `${type}\u0000${id}`
  const read = (type: string, id: string) => {
    const held = staging.peek(type, id)
    const v = held ? held.json : keys.get(key(type, id))
    if (v === undefined || v === null) return undefined
    // Identity reads LID↔PN mappings before any load() (store/codec.ts decodeLidMapping).
    return type === 'lid-mapping' ? decodeLidMapping(v) : decodeAuthValue(v)
  }
  const writeRows = (rows: KeyRow[]) => {
    for (const { type, id, json } of rows) {
      if (json === null) keys.delete(key(type, id))
      else keys.set(key(type, id), json)
    }
  }
  const learned = (rows: KeyRow[]) => {
    const pairs = listeners.size ? lidPairsIn(rows) : []
    if (pairs.length) for (const fn of listeners) fn(pairs)
  }
  const staging = createKeyStaging({ write: async (rows) => { check(); writeRows(rows) }, committed: learned })
  return {
    writeRows,
    holdKeys: () => staging.hold(),
    resetHeldKeys: () => staging.reset(),
    async load() {
      const saved = creds
      // Baileys, for the codecs: imported by the first load, before any credential or key is decoded (store/codec.ts).
      const { initAuthCreds } = await loadAuthCodec()
      const c: AuthenticationCreds = saved ? decodeAuthValue(saved) : initAuthCreds()
      return {
        creds: c,
        keys: {
          get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
            const out: { [id: string]: SignalDataTypeMap[T] } = {}
            for (const id of ids) { const v = read(type, id); if (v !== undefined) out[id] = v }
            return out
          },
          set: async (data: SignalDataSet) => {
            if (staging.stage(data)) return
            check()
            const rows = keyRows(data)
            staging.supersede(rows)
            writeRows(rows)
            learned(rows)
          },
        },
      }
    },
    async saveCreds(c) { check(); creds = encodeAuthValue(c) },
    async clear() { check(); creds = null; keys.clear(); staging.reset() },
    async getLIDForPN(pn) { const l = read('lid-mapping', userOf(pn)); return typeof l === 'string' ? `${l}@lid` : null },
    async getPNForLID(lid) { const p = read('lid-mapping', `${userOf(lid)}_reverse`); return typeof p === 'string' ? `${p}@s.whatsapp.net` : null },
    async lidPairs() {
      const out: Array<{ lid: string; pn: string }> = []
      for (const [k, v] of keys) {
        const [type, id] = k.split('\u0000')
        if (type === 'lid-mapping' && !id!.endsWith('_reverse')) out.push({ pn: `${id}@s.whatsapp.net`, lid: `${JSON.parse(v)}@lid` })
      }
      return out
    },
    onLidMapping(fn) { listeners.add(fn); return () => { listeners.delete(fn) } },
  }
}
