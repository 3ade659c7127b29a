import type { PollView } from '../../contract/polls.ts'
import type { PollRecord, PollStatus, ScanRow, SenderFields, SenderRow } from '../../store/ports.ts'
import { isLid, sameSender } from '../identity.ts'
import type { DecryptablePoll } from './decrypt.ts'
import { createPendingIndex } from './pending.ts'
import { createSightings } from './sightings.ts'
import type { PendingLimits, PendingRow } from './pending.ts'
import { CHANGED, COUNTED, createTally, pollView } from './tally.ts'
import { tieBreak } from './tie-break.ts'
import { VoterIds } from './ballot-table.ts'
import type { Ballot, PollShape, Tally } from './tally.ts'

/** A poll in memory: its record, how to decrypt its votes, and its current tally. */
export interface PollState extends DecryptablePoll, PollShape {
  status: PollStatus
  reason?: string
  /** prepared by this process and not known to have gone out: not shown while `sending` */
  preparedHere: boolean
  /** shown by all()/get() and announced by events (see shown()) */
  listed: boolean
  tally: Tally
  /** cached contract view, dropped on every visible change */
  view?: PollView
  /** the creator JID persisted with the poll, to write the hint only when it changes */
  savedCreator?: string
}

/**
 * Whether a poll is shown: `sent` and `received` polls, and a `sending` one this process did not
 * prepare (a crash mid-send: it may have gone out). A `failed` one is kept but not shown.
 */
export const shown = (p: Pick<PollState, 'status' | 'preparedHere'>): boolean =>
  p.status === 'sent' || p.status === 'received' || (p.status === 'sending' && !p.preparedHere)

/** Who follows ballots beside the tallies (a campaign's combined result). */
export interface BallotWatcher {
  /** `voter`'s current ballot in the poll is now `b`; undefined when none is kept under that key any more (merged into a PN) */
  ballot(pollId: string, voter: string, b: Ballot | undefined): void
  /** everything was reloaded from the store: read the ballots again */
  reset(): void
}

/** A Signal-layer sighting that messages.upsert has not confirmed yet. */
export interface SignalSighting {
  seq: number
  /** the sender's JIDs (Identity.senderIds): the upsert sighting must come from the same person */
  sender: readonly string[]
}

/**
 * Everything the engine derives from the journal, in memory and private to it: polls with
 * their tallies, the dedup index, the index of pending votes, and which persons are counted
 * under a LID. All of it is rebuilt from the store by `load`; nothing here is the source of
 * truth, and only the engine changes it.
 */
export function createVoteState(limits: PendingLimits = {}) {
  const polls = new Map<string, PollState>()
  /**
   * payload hash → the first sighting of it from each sender (almost always one), for every row
   * of the journal: a compact table (sightings.ts), not a Map of hash strings. Per sender: every
   * group member sees the others' encrypted votes, and a copy re-sent by someone else is that
   * someone's vote (one they cannot have encrypted), not a duplicate of the original.
   */
  const dedup = createSightings()
  /** payload hash → Signal-layer sightings not yet confirmed by messages.upsert */
  const signals = new Map<string, SignalSighting[]>()
  /**
   * per known poll, the first and last journal number of its rows: its history is read from the
   * store within that range (rows for unknown polls are looked up when the poll arrives). Two
   * numbers per poll, where a list of row numbers grew with every vote.
   */
  const spans = new Map<string, RowSpan>()
  /**
   * One string and number per voter key, whatever poll or row it came from: the tallies of every
   * poll a person voted in share them, and none keeps the store's scan text alive (see intern()).
   */
  let voters = new VoterIds()
  const pending = createPendingIndex(limits)
  /** LID voter key → polls where a person is counted under it (their PN was unknown) */
  const lidVoters = new Map<string, Set<string>>()
  /** persisted LID → PN merges */
  const merged = new Map<string, string>()
  const counts = { ok: 0, dup: 0, rejected: 0 }
  /** changes whenever what the shown polls show does (a tally, the list): readers cache by it */
  let revision = 0
  const watchers = new Set<BallotWatcher>()
  /** A voter's current ballot in a poll is now `b` (undefined: none under this key any more). */
  const told = (pollId: string, voter: string, b: Ballot | undefined) => { for (const w of watchers) w.ballot(pollId, voter, b) }

  function pollFrom(rec: PollRecord, preparedHere: boolean): PollState {
    // Every field named, none spread: an object spread and more fields after it gave each poll
    // a hidden class of its own (10,000 polls, 10,000 classes, 6 MB, and every read of a poll's
    // field a lookup that no inline cache could hold).
    const p: PollState = {
      id: rec.id,
      chatId: rec.chatId,
      question: rec.question,
      options: rec.options,
      hashes: rec.hashes,
      selectableCount: rec.selectableCount,
      secret: rec.secret,
      timestamp: rec.timestamp,
      status: rec.status,
      reason: rec.reason,
      hashIndex: new Map(rec.hashes.map((h, i) => [h, i])),
      creatorHint: rec.creatorJid,
      voterHint: undefined,
      preparedHere,
      listed: false,
      tally: createTally(rec.options.length, voters),
      view: undefined,
      savedCreator: rec.creatorJid,
    }
    p.listed = shown(p)
    return p
  }

  const firstSightings = (hash: string): readonly number[] => dedup.get(hash)
  const addFirst = (hash: string, seq: number): void => dedup.add(hash, seq)
  const dropFirst = (hash: string, seq: number): void => dedup.drop(hash, seq)

  /**
   * The kept copy of a voter key. A key read by the store's scan is a slice of a chunk of the
   * journal's text, and V8 keeps the whole chunk alive for as long as the slice lives: the first
   * sighting of each key is copied out once (through a Buffer, which always makes a new string).
   */
  function intern(key: string): string {
    const id = voters.find(key)
    if (id !== undefined) return voters.keyOf(id)
    const kept = Buffer.from(key, 'utf8').toString('utf8')
    voters.id(kept)
    return kept
  }

  function addSignal(hash: string, s: SignalSighting): void {
    const list = signals.get(hash)
    if (list) list.push(s)
    else signals.set(hash, [s])
  }

  /** Takes the unconfirmed Signal-layer sighting of this hash from the same sender, if any. */
  function takeSignal(hash: string, sender: readonly string[]): SignalSighting | undefined {
    const list = signals.get(hash)
    const i = list ? list.findIndex((s) => sameSender(s.sender, sender)) : -1
    if (i < 0) return undefined
    const [hit] = list!.splice(i, 1)
    if (!list!.length) signals.delete(hash)
    return hit
  }

  function dropSignal(hash: string, seq: number): void {
    const list = signals.get(hash)
    const i = list ? list.findIndex((s) => s.seq === seq) : -1
    if (i < 0) return
    list!.splice(i, 1)
    if (!list!.length) signals.delete(hash)
  }

  const canonical = (voterKey: string): string => merged.get(voterKey) ?? voterKey

  function selFrom(p: PollState, selected: string | readonly string[] | null | undefined): number[] {
    if (!selected) return []
    const hashes = typeof selected === 'string' ? selected.split(',') : selected
    const sel: number[] = []
    for (const h of hashes) {
      const i = p.hashIndex.get(h)
      if (i !== undefined && !sel.includes(i)) sel.push(i)
    }
    return sel.sort((a, b) => a - b)
  }

  /**
   * A ballot whose selection arrays are shared with every other voter who chose the same. Its
   * hash, kept for the tie-break for as long as the ballot is someone's current one, is held as
   * its 16 bytes (tieBreak()): the same order as the hex digits, in 32 bytes of heap instead of 48.
   */
  function ballot(p: PollState, ts: number, payloadHash: string, mask: number | null | undefined, selected?: string | readonly string[] | null): Ballot {
    const hash = tieBreak(payloadHash)
    return { ts, hash, sel: mask === null || mask === undefined ? selFrom(p, selected) : selOfMask(mask, p.options.length) }
  }

  /** Counts one decrypted vote; true when the poll as shown changed. */
  function count(p: PollState, voterKey: string, b: Ballot): boolean {
    const key = intern(canonical(voterKey))
    const { counted, changed } = p.tally.apply(key, b)
    if (isLid(key)) addTo(lidVoters, key, p.id)
    if (counted && watchers.size) told(p.id, key, b)
    if (changed) dropView(p)
    return changed
  }

  /** The poll as shown changed: its cached view goes, and readers' caches with the revision. */
  function dropView(p: PollState): void {
    p.view = undefined
    if (p.listed) revision++
  }

  /**
   * count() for a row of a start, without a Ballot object or its tie-break string: `hash` is the
   * row's payload hash, `mask` or `selected` its selection as the journal holds them.
   */
  function countRow(p: PollState, voterKey: string, ts: number, hash: string, mask: number | null, selected: string | null): void {
    const key = intern(canonical(voterKey))
    const sel = mask === null ? selFrom(p, selected) : selOfMask(mask, p.options.length)
    const outcome = p.tally.applyRow(key, ts, hash, sel)
    if (isLid(key)) addTo(lidVoters, key, p.id)
    if (outcome & COUNTED && watchers.size) told(p.id, key, p.tally.current.get(key))
    if (outcome & CHANGED) dropView(p)
  }

  function addRow(pollId: string, seq: number): void {
    if (!polls.has(pollId)) return
    const span = spans.get(pollId)
    if (!span) spans.set(pollId, { from: seq, to: seq })
    else if (seq < span.from) span.from = seq
    else if (seq > span.to) span.to = seq
  }

  /** A LID and its phone number are one person: fold the LID's ballots into the PN's, everywhere. */
  function merge(lid: string, pn: string): Set<PollState> {
    merged.set(lid, pn)
    const changed = new Set<PollState>()
    for (const id of lidVoters.get(lid) ?? []) {
      const p = polls.get(id)
      if (p && p.tally.merge(lid, pn).changed) {
        dropView(p)
        changed.add(p)
      }
      if (p && watchers.size) { told(p.id, lid, undefined); told(p.id, pn, p.tally.current.get(pn)) }
    }
    lidVoters.delete(lid)
    return changed
  }

  /**
   * Rebuilds everything from what the store holds. Returns the pending rows found over the caps
   * (a smaller cap since, or a crash before their expiry was written), for the engine to expire.
   */
  async function load(src: {
    polls: PollRecord[]
    persons: Array<{ lid: string; pn: string }>
    scan: AsyncIterable<ScanRow[]>
    pending: SenderRow[]
    unconfirmed: SenderRow[]
    senderIds: (raw: SenderFields) => string[]
    /** polls prepared by this process (a rebuild keeps them hidden) */
    preparedHere: (id: string) => boolean
  }): Promise<PendingRow[]> {
    revision++
    for (const m of [polls, signals, spans, lidVoters, merged]) m.clear()
    voters = new VoterIds()
    dedup.clear()
    pending.clear()
    counts.ok = counts.dup = counts.rejected = 0
    for (const rec of src.polls) polls.set(rec.id, pollFrom(rec, src.preparedHere(rec.id)))
    for (const { lid, pn } of src.persons) merged.set(intern(lid), intern(pn))
    // The journal in order, a chunk at a time: only what a row adds to the indexes and tallies
    // stays, never the chunk (see intern() and tieBreak()). Within a chunk, poll by poll (each
    // in journal order): votes of many polls interleave, and a poll's tally, choices and span
    // stay in the CPU's caches for its run of rows (a third of the fold's time otherwise).
    for await (const rows of src.scan) {
      const byPoll = new Map<string, ScanRow[]>()
      for (const r of rows) {
        const list = byPoll.get(r.pollId)
        if (list) list.push(r)
        else byPoll.set(r.pollId, [r])
      }
      for (const [pollId, list] of byPoll) {
        const p = polls.get(pollId)
        for (const { seq, hash, state, voterKey, senderTs, mask, selected } of list) {
          if (p) addRow(p.id, seq)
          if (state !== 'dup') dedup.stage(hash, seq)
          if (state === 'ok') {
            counts.ok++
            if (p && voterKey) countRow(p, voterKey, senderTs, hash, mask, selected)
          } else if (state === 'dup') counts.dup++
          else if (state === 'rejected') counts.rejected++
        }
      }
    }
    const overflow: PendingRow[] = []
    for (const { seq, hash, raw, reason } of src.pending) {
      overflow.push(...pending.add({ seq, hash, pollId: raw.pollId, reason, sender: src.senderIds(raw) }))
    }
    for (const { seq, hash, raw } of src.unconfirmed) addSignal(hash, { seq, sender: src.senderIds(raw) })
    for (const w of watchers) w.reset()
    return overflow
  }

  return {
    load,
    poll: (id: string) => polls.get(id),
    /** Follows every change of a voter's current ballot (after its commit) and every reload; returns the remover. */
    watch(w: BallotWatcher): () => void {
      watchers.add(w)
      return () => { watchers.delete(w) }
    },
    hasPoll: (id: string) => polls.has(id),
    polls: () => polls.values(),
    pollCount: () => polls.size,
    addPoll(p: PollState) {
      polls.set(p.id, p)
      if (p.listed) revision++
    },
    /** Shows or hides a poll (its status changed). */
    setListed(p: PollState, listed: boolean) {
      if (p.listed !== listed) revision++
      p.listed = listed
    },
    revision: () => revision,
    /** the range of journal numbers holding every row of a known poll; undefined while it has none */
    span: (pollId: string): Readonly<RowSpan> | undefined => spans.get(pollId),
    /** every row of this poll, now that it is known (the rows came first: see seqsOfPoll) */
    setRows(pollId: string, seqs: readonly number[]) {
      spans.delete(pollId)
      for (const seq of seqs) addRow(pollId, seq)
    },
    addRow,
    pending,
    lidVotersWithPolls: (): string[] => [...lidVoters].filter(([, ids]) => ids.size).map(([lid]) => lid),
    isCountedUnderLid: (lid: string) => !!lidVoters.get(lid)?.size,
    isMerged: (lid: string) => merged.has(lid),
    mergedPairs: (): Array<[lid: string, pn: string]> => [...merged],
    counts,
    dedupSize: () => dedup.size(),
    firstSightings,
    addFirst,
    dropFirst,
    addSignal,
    takeSignal,
    dropSignal,
    pollFrom,
    canonical,
    ballot,
    count,
    merge,
    view(p: PollState): PollView {
      return (p.view ??= pollView(p, p.tally))
    },
  }
}

export type VoteState = ReturnType<typeof createVoteState>

/** The first and last journal number of a poll's rows (others' rows may lie between). */
export interface RowSpan { from: number; to: number }

/**
 * A bit mask of options as the ascending list of their indices, the same array for every ballot
 * of every poll that chose the same (never mutated): ten thousand polls held a copy each of their
 * few choices, 1.5 KB a poll. Masks of the first 12 options are kept; others are made each time.
 */
export function selOfMask(mask: number, optionCount: number): readonly number[] {
  const m = optionCount >= 31 ? mask : mask & ((1 << optionCount) - 1)
  let sel = m >= 0 && m < SHARED_MASKS ? sels[m] : undefined
  if (!sel) {
    const list: number[] = []
    for (let i = 0; i < optionCount && i < 31; i++) if (m & (1 << i)) list.push(i)
    sel = list
    if (m >= 0 && m < SHARED_MASKS) sels[m] = sel
  }
  return sel
}

const SHARED_MASKS = 1 << 12
const sels: Array<readonly number[] | undefined> = []

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let set = m.get(k)
  if (!set) m.set(k, (set = new Set()))
  set.add(v)
}
