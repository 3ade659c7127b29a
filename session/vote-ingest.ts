import type { Logger } from 'pino'
import { tx } from './db.ts'
import type { Db } from './db.ts'
import type { Emitter } from './events.ts'
import type { PollStoreDb, RowDerived, StoredVote } from './poll-store.ts'
import type { RawVote } from './poll-types.ts'
import { deriveVote } from './vote-derive.ts'
import type { Derived } from './vote-derive.ts'
import { creatorCandidates, isLid, sameSender } from './vote-identity.ts'
import type { OwnIdentity, Person, PersonResolver, SenderFields } from './vote-identity.ts'
import type { PendingRow } from './vote-pending.ts'
import type { StoreHealth } from './store-health.ts'
import type { PollState, SignalSighting, VoteState } from './vote-state.ts'
import type { VoteMetrics } from './vote-metrics.ts'

export interface IngestItem { raw: RawVote; hash: string }

/** A journal row being (re)derived: a new sighting to insert, or a stored row to update. */
interface Work {
  seq: number
  hash: string
  raw: RawVote
  confirmed: boolean
  /** the stored row, when this is a re-derivation */
  prev?: StoredVote
  /** the sender's JIDs, when already worked out */
  sender?: readonly string[]
  person?: Person
  derived?: Derived
}

interface Dup { seq: number; hash: string; raw: RawVote; dupOf: number; confirmed: boolean }

interface SettleOpts {
  dups?: Dup[]
  enrich?: Array<{ seq: number; raw: RawVote }>
  /** other sightings of persons (repeats, lookups): any LID↔PN pair they show may merge two voters */
  persons?: Person[]
  /** polls whose poll:update is left to the caller (it announces them as new) */
  quiet?: ReadonlySet<string>
}

const NOBODY: Person = { named: [] }

/**
 * The write path of the vote engine: derive (decrypt, check, key by person), commit in one
 * transaction, then apply to memory and announce. Every function here runs inside the
 * engine's exclusive section, one at a time.
 */
export function createIngest(deps: {
  db: Db
  health: StoreHealth
  store: PollStoreDb
  state: VoteState
  resolver: PersonResolver
  identity: OwnIdentity
  emitter: Emitter
  log: Logger
  now: () => number
  metrics: VoteMetrics
}) {
  const { db, store, state, resolver, log, metrics, health } = deps

  /**
   * One group commit: new sightings are journaled, repeats from the same sender become
   * duplicates or enrich the first. If the commit fails, what this batch changed in memory
   * (journal numbers, dedup entries) is taken back, so nothing needs reloading.
   */
  async function batch(items: readonly IngestItem[]): Promise<void> {
    const works: Work[] = []
    const dups: Dup[] = []
    const enrich: Array<{ seq: number; raw: RawVote }> = []
    const retryAfter: number[] = []
    // Signal-layer sightings of this batch, for an upsert sighting in the same batch to confirm.
    const inBatch = new Map<number, { raw: RawVote; confirmed: boolean }>()
    const persons: Person[] = []
    const undo = undoLog()
    for (const { raw, hash } of items) {
      const sender = resolver.senderIds(raw)
      // The Signal-layer sighting and the messages.upsert one are the same delivery: the
      // later one only fills in the message id and alt JIDs.
      const sig = raw.source === 'signal' ? undefined : state.takeSignal(hash, sender)
      if (sig) {
        undo.signalTaken(hash, sig)
        const target = inBatch.get(sig.seq)
        if (target) {
          target.raw = filled(target.raw, raw)
          target.confirmed = true
        } else {
          enrich.push({ seq: sig.seq, raw })
          if (state.pending.isNoKey(sig.seq)) retryAfter.push(sig.seq)
        }
        continue
      }
      const seq = state.nextSeq()
      const first = firstFromSender(hash, sender, inBatch)
      if (raw.source === 'signal') {
        state.addSignal(hash, { seq, sender })
        undo.signalAdded(hash, seq)
      }
      if (first === undefined) {
        state.addFirst(hash, seq)
        undo.firstAdded(hash, seq)
        const w: Work = { seq, hash, raw, confirmed: false, sender }
        works.push(w)
        inBatch.set(seq, w)
        continue
      }
      // Anything else from the same sender is a redelivery.
      persons.push(resolver.fromRaw(raw))
      const d: Dup = { seq, hash, raw, dupOf: first, confirmed: false }
      dups.push(d)
      inBatch.set(seq, d)
    }
    try {
      await settle(works, { dups, enrich, persons })
    } catch (err) {
      undo.run()
      throw err
    }
    if (retryAfter.length) await retry(retryAfter)
  }

  /** The first sighting of this payload from the same sender (in this batch or journaled), if any. */
  function firstFromSender(hash: string, sender: readonly string[], inBatch: ReadonlyMap<number, { raw: RawVote }>): number | undefined {
    const firsts = state.firstSightings(hash)
    if (!firsts.length) return undefined
    const stored = firsts.filter((seq) => !inBatch.has(seq))
    const raws = new Map<number, SenderFields>(store.bySeqs(stored).map((r) => [r.seq, r.raw]))
    for (const seq of firsts) {
      const raw = inBatch.get(seq)?.raw ?? raws.get(seq)
      if (raw && sameSender(resolver.senderIds(raw), sender)) return seq
    }
    return undefined
  }

  /** What a batch changed in memory before its commit, to take back if the commit fails. */
  function undoLog() {
    const lastSeq = state.lastSeq
    const firsts: Array<[string, number]> = []
    const signals: Array<[string, number]> = []
    const taken: Array<[string, SignalSighting]> = []
    return {
      firstAdded: (hash: string, seq: number) => { firsts.push([hash, seq]) },
      signalAdded: (hash: string, seq: number) => { signals.push([hash, seq]) },
      signalTaken: (hash: string, s: SignalSighting) => { taken.push([hash, s]) },
      run() {
        for (const [hash, seq] of firsts) state.dropFirst(hash, seq)
        for (const [hash, seq] of signals) state.dropSignal(hash, seq)
        for (const [hash, s] of taken) state.addSignal(hash, s)
        state.lastSeq = lastSeq
      },
    }
  }

  /** Re-derives stored pending rows (a mapping or a poll became known). Returns how many resolved. */
  async function retry(seqs: readonly number[], quiet?: ReadonlySet<string>): Promise<number> {
    const rows = store.bySeqs(seqs).filter((r) => r.state === 'pending')
    if (!rows.length) return 0
    const works = rows.map((r): Work => ({ seq: r.seq, hash: r.hash, raw: r.raw, confirmed: r.confirmed, prev: r }))
    await settle(works, { quiet })
    return works.filter((w) => w.derived?.state !== 'pending').length
  }

  /**
   * Persons counted under a LID whose PN has become known since: merge them. Returns how many.
   * `only`: just these JIDs (a mapping that was just learned), else every LID voter.
   */
  async function mergeKnown(only?: readonly string[]): Promise<number> {
    const people = [...state.lidVoters].filter(([lid, polls]) => polls.size && (!only || only.includes(lid)))
      .map(([lid]): Person => ({ lid, named: [lid] }))
    await Promise.all(people.map((p) => resolver.completePn(p)))
    const before = state.merged.size
    await settle([], { persons: people })
    return state.merged.size - before
  }

  /**
   * Re-derives every row of one poll (or of all) from its raw columns alone — decryption,
   * checks, voter keys — writes back what differs, and reloads the tallies from that.
   */
  async function rebuild(pollId?: string): Promise<void> {
    const seqs = pollId ? state.rowsByPoll.get(pollId) ?? [] : [...state.rowsByPoll.values()].flat()
    const works = store.bySeqs(seqs).filter((r) => r.state !== 'dup')
      .map((r): Work => ({ seq: r.seq, hash: r.hash, raw: r.raw, confirmed: r.confirmed, prev: r }))
    await derive(works)
    const merges = mergesFor(works, [])
    tx(db, () => {
      for (const w of works) if (changedRow(w.prev!, w.derived!)) store.setDerived(w.seq, w.derived!)
      for (const m of merges) store.addPerson(m.lid, m.pn)
    })
    state.load(resolver.senderIds)
    expire(state.overflow.splice(0))
  }

  /** Decrypts and checks each row; asks the LID mapping only where the vote alone is not enough. */
  async function derive(works: Work[]): Promise<void> {
    const own = creatorCandidates(deps.identity())
    for (const w of works) if (state.polls.has(w.raw.pollId)) w.person = resolver.fromRaw(w.raw)
    const lidOnly = works.filter((w) => w.person?.lid && !w.person.pn)
    if (lidOnly.length) await Promise.all(lidOnly.map((w) => resolver.completePn(w.person!)))
    for (const w of works) w.derived = deriveVote(w.raw, state.polls.get(w.raw.pollId), w.person ?? NOBODY, own)
    // Last resort for a vote no pair decrypts: the voter's LID from Baileys (maybe a usync query).
    const noKey = works.filter((w) => w.derived!.state === 'pending' && w.person?.pn && !w.person.lid)
    if (!noKey.length) return
    await Promise.all(noKey.map((w) => resolver.completeLid(w.person!)))
    for (const w of noKey) if (w.person!.lid) w.derived = deriveVote(w.raw, state.polls.get(w.raw.pollId), w.person!, own)
  }

  async function settle(works: Work[], opts: SettleOpts): Promise<void> {
    await derive(works)
    const merges = mergesFor(works, opts.persons)
    const promoted = new Set<PollState>()
    const hinted = new Set<PollState>()
    for (const w of works) {
      const p = state.polls.get(w.raw.pollId)
      if (!p) continue
      if (w.derived!.state === 'ok' && p.status === 'failed') promoted.add(p)
      if (p.creatorHint && p.creatorHint !== p.savedCreator) hinted.add(p)
    }

    try {
      tx(db, () => {
        for (const w of works) {
          const d = w.derived!
          if (!w.prev) store.insertVote(w.seq, w.hash, w.raw, d, w.confirmed)
          else if (changedRow(w.prev, d)) store.setDerived(w.seq, d)
        }
        for (const d of opts.dups ?? []) store.insertVote(d.seq, d.hash, d.raw, { state: 'dup', dupOf: d.dupOf }, d.confirmed)
        for (const e of opts.enrich ?? []) store.enrich(e.seq, e.raw)
        for (const m of merges) store.addPerson(m.lid, m.pn)
        for (const p of hinted) store.setCreator(p.id, p.creatorHint!)
        for (const p of promoted) store.setStatus(p.id, 'sent', undefined, deps.now())
      })
    } catch (err) {
      health.failed(err, `${works.length + (opts.dups?.length ?? 0)} votes`)
      throw err
    }
    health.committed()

    const changed = new Set<PollState>()
    const expired: PendingRow[] = []
    for (const w of works) {
      if (!w.prev) metrics.voteReceived(w.raw.source)
      applyWork(w, changed, expired)
    }
    if (expired.length) expire(expired)
    for (const d of opts.dups ?? []) { state.addRow(d.raw.pollId, d.seq); state.counts.dup++; metrics.voteReceived(d.raw.source) }
    for (const p of hinted) p.savedCreator = p.creatorHint
    for (const m of merges) for (const p of state.merge(m.lid, m.pn)) changed.add(p)
    for (const p of promoted) {
      log.warn({ pollMsgId: p.id }, 'vote for a poll marked failed: it went out after all')
      p.status = 'sent'
      p.reason = undefined
    }
    announce(changed, promoted, opts.quiet)
  }

  function applyWork(w: Work, changed: Set<PollState>, expired: PendingRow[]): void {
    const d = w.derived!
    const pollId = w.raw.pollId
    if (w.prev) {
      if (d.state !== 'pending') state.pending.remove(w.seq)
      if (w.prev.state === 'ok') state.counts.ok--
      else if (w.prev.state === 'rejected') state.counts.rejected--
    } else {
      state.addRow(pollId, w.seq)
    }
    // Counted once per vote: a retry or rebuild that reaches the same state is not a new event.
    if (d.state === 'pending') {
      if (!w.prev) metrics.votePending(d.reason)
      expired.push(...state.pending.add({ seq: w.seq, hash: w.hash, pollId, reason: d.reason, sender: w.sender ?? resolver.senderIds(w.raw) }))
      return
    }
    if (d.state === 'rejected') {
      if (w.prev?.state !== 'rejected') metrics.voteFailed(d.reason)
      state.counts.rejected++
      return
    }
    if (w.prev?.state !== 'ok') metrics.voteDecrypted()
    state.counts.ok++
    const p = state.polls.get(pollId)!
    if (state.applyOk(p, d.voterKey, state.ballot(p, w.raw.senderTimestampMs, w.hash, d.mask, d.selected))) changed.add(p)
  }

  /**
   * LID↔PN pairs that join two voters: a person counted under a LID (their PN unknown then)
   * now shows up with both. Rare; checked with one map lookup per vote.
   */
  function mergesFor(works: readonly Work[], others: readonly Person[] = []): Array<{ lid: string; pn: string }> {
    const lidKeys = new Set<string>()
    for (const w of works) {
      const d = w.derived!
      if (d.state === 'ok' && isLid(d.voterKey)) lidKeys.add(d.voterKey)
    }
    const out: Array<{ lid: string; pn: string }> = []
    const consider = (p: Person | undefined) => {
      if (!p?.pn || !p.lid || !(state.lidVoters.get(p.lid)?.size || lidKeys.has(p.lid))) return
      if (!state.merged.has(p.lid) && !out.some((m) => m.lid === p.lid)) out.push({ lid: p.lid, pn: p.pn })
    }
    for (const w of works) consider(w.person)
    for (const p of others) consider(p)
    for (const m of out) resolver.learn(m.pn, m.lid)
    return out
  }

  function announce(changed: Set<PollState>, promoted: Set<PollState>, quiet?: ReadonlySet<string>): void {
    for (const p of promoted) {
      const wasListed = p.listed
      p.listed = true
      if (!wasListed) emit('poll:new', p)
    }
    for (const p of changed) {
      if (p.listed && !promoted.has(p) && !quiet?.has(p.id)) emit('poll:update', p)
    }
  }

  function emit(event: 'poll:new' | 'poll:update', p: PollState): void {
    try {
      deps.emitter.emit(event, p.id, state.view(p))
    } catch (err) {
      log.error({ err, pollMsgId: p.id, event }, 'poll listener failed')
    }
  }

  /**
   * Gives up on pending rows that fell out of the index (over the caps, or too old): they stay
   * in the journal as `rejected`/`expired` and are never retried again. A failed write leaves
   * them pending in the store; the next start indexes them again and expires them then.
   */
  function expire(rows: readonly PendingRow[]): void {
    if (!rows.length) return
    try {
      tx(db, () => store.expire(rows.map((r) => r.seq)))
    } catch (err) {
      health.failed(err, 'vote expiry')
      return
    }
    for (const r of rows) {
      state.dropFirst(r.hash, r.seq)
      state.counts.rejected++
      metrics.voteFailed('expired')
    }
    log.info({ votes: rows.length }, 'undecryptable votes expired')
  }

  return { batch, retry, mergeKnown, rebuild, expire, emit }
}

function changedRow(a: RowDerived, b: RowDerived): boolean {
  return a.state !== b.state || a.reason !== b.reason || a.voterKey !== b.voterKey || a.creatorJid !== b.creatorJid
    || a.voterJid !== b.voterJid || (a.selected ?? []).join() !== (b.selected ?? []).join() || a.mask !== b.mask
}

function filled(first: RawVote, later: RawVote): RawVote {
  return {
    ...first,
    msgId: first.msgId ?? later.msgId,
    remoteJidAlt: first.remoteJidAlt ?? later.remoteJidAlt,
    participant: first.participant ?? later.participant,
    participantAlt: first.participantAlt ?? later.participantAlt,
  }
}
