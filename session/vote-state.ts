import type { PollRecord, PollStoreDb } from './poll-store.ts'
import type { PollStatus, PollView } from './poll-types.ts'
import { applyBallot, createTally, mergeVoters, pollView } from './tally.ts'
import type { Ballot, PollShape, Tally } from './tally.ts'
import type { DecryptablePoll } from './vote-derive.ts'
import { isLid } from './vote-identity.ts'

/** A poll in memory: its record, how to decrypt its votes, and its current tally. */
export interface PollState extends DecryptablePoll, PollShape {
  status: PollStatus
  reason?: string
  /** shown by all()/get() and announced by events */
  listed: boolean
  tally: Tally
  /** cached contract view, dropped on every visible change */
  view?: PollView
  /** the creator JID persisted in poll_record, to write the hint only when it changes */
  savedCreator?: string
  /** one shared selection (indices and hashes) per distinct choice: few per poll, many voters each */
  choices: Map<number, { sel: number[]; shown: string[] }>
}

/**
 * Everything the engine derives from the store, in memory: polls with their tallies, the
 * dedup index, pending votes, and which persons are counted under a LID. All of it can be
 * rebuilt from the database with load(); nothing here is the source of truth.
 */
export function createVoteState(store: PollStoreDb) {
  const polls = new Map<string, PollState>()
  /** payload hash → journal row of the first sighting */
  const dedup = new Map<string, number>()
  /** payload hash → newest Signal-layer sighting not yet confirmed by messages.upsert */
  const lastSignal = new Map<string, number>()
  /** every journal row per poll id, known poll or not, in journal order */
  const rowsByPoll = new Map<string, number[]>()
  const pendingNoKey = new Set<number>()
  const pendingUnknown = new Map<string, Set<number>>()
  /** LID voter key → polls where a person is counted under it (their PN was unknown) */
  const lidVoters = new Map<string, Set<string>>()
  /** persisted LID → PN merges (vote_person) */
  const merged = new Map<string, string>()
  /** polls prepared by this process and not sent yet: not shown until markSent */
  const hidden = new Set<string>()
  const counts = { ok: 0, dup: 0, rejected: 0 }
  let lastSeq = 0

  function pollFrom(rec: PollRecord, listed: boolean): PollState {
    return {
      ...rec,
      hashIndex: new Map(rec.hashes.map((h, i) => [h, i])),
      listed,
      tally: createTally(rec.options.length),
      creatorHint: rec.creatorJid,
      savedCreator: rec.creatorJid,
      choices: new Map(),
    }
  }

  function canonical(voterKey: string): string {
    return merged.get(voterKey) ?? voterKey
  }

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

  /** A ballot whose selection arrays are shared with every other voter who chose the same. */
  function ballot(p: PollState, ts: number, hash: string, mask: number | null | undefined, selected?: string | readonly string[] | null): Ballot {
    if (mask === null || mask === undefined) {
      const sel = selFrom(p, selected)
      return { ts, hash, sel, shown: sel.map((i) => p.hashes[i]) }
    }
    let c = p.choices.get(mask)
    if (!c) {
      const sel: number[] = []
      for (let i = 0; i < p.options.length; i++) if (mask & (1 << i)) sel.push(i)
      c = { sel, shown: sel.map((i) => p.hashes[i]) }
      p.choices.set(mask, c)
    }
    return { ts, hash, sel: c.sel, shown: c.shown }
  }

  /** Counts one decrypted vote; true when the poll as shown changed. */
  function applyOk(p: PollState, voterKey: string, ballot: Ballot): boolean {
    const key = canonical(voterKey)
    const { changed } = applyBallot(p.tally, key, ballot)
    if (isLid(key)) addTo(lidVoters, key, p.id)
    if (changed) p.view = undefined
    return changed
  }

  function addRow(pollId: string, seq: number): void {
    let list = rowsByPoll.get(pollId)
    if (!list) rowsByPoll.set(pollId, (list = []))
    list.push(seq)
  }

  function setPending(seq: number, pollId: string, reason: string | undefined): void {
    if (reason === 'no_key') pendingNoKey.add(seq)
    else addTo(pendingUnknown, pollId, seq)
  }

  function clearPending(seq: number, pollId: string): void {
    pendingNoKey.delete(seq)
    const set = pendingUnknown.get(pollId)
    if (set?.delete(seq) && !set.size) pendingUnknown.delete(pollId)
  }

  /** A LID and its phone number are one person: fold the LID's ballots into the PN's, everywhere. */
  function merge(lid: string, pn: string): Set<PollState> {
    merged.set(lid, pn)
    const changed = new Set<PollState>()
    for (const id of lidVoters.get(lid) ?? []) {
      const p = polls.get(id)
      if (p && mergeVoters(p.tally, lid, pn).changed) {
        p.view = undefined
        changed.add(p)
      }
    }
    lidVoters.delete(lid)
    return changed
  }

  /** (Re)loads everything from the store: start, and recovery after a failed commit. */
  function load(): void {
    for (const m of [polls, dedup, lastSignal, rowsByPoll, pendingNoKey, pendingUnknown, lidVoters, merged]) m.clear()
    counts.ok = counts.dup = counts.rejected = 0
    // A poll still 'sending' that this process did not prepare survived a crash mid-send:
    // it may have gone out, so it is shown (and its votes count, like everyone's).
    for (const rec of store.polls()) polls.set(rec.id, pollFrom(rec, rec.status !== 'failed' && !hidden.has(rec.id)))
    for (const { lid, pn } of store.persons()) merged.set(lid, pn)
    for (const [pollId, rows] of store.scan()) {
      const p = polls.get(pollId)
      const seqs: number[] = new Array(rows.length)
      rowsByPoll.set(pollId, seqs)
      for (let i = 0; i < rows.length; i++) {
        const { seq, hash, state, voterKey, senderTs, mask, selected } = rows[i]
        seqs[i] = seq
        if (state !== 'dup') dedup.set(hash, seq)
        if (state === 'ok') {
          counts.ok++
          if (p && voterKey) applyOk(p, voterKey, ballot(p, senderTs, hash, mask, selected))
        } else if (state === 'dup') counts.dup++
        else if (state === 'rejected') counts.rejected++
      }
    }
    for (const [seq, pollId, reason] of store.pending()) setPending(seq, pollId, reason ?? undefined)
    for (const [seq, hash] of store.unconfirmed()) lastSignal.set(hash, seq)
    lastSeq = store.maxSeq()
  }

  return {
    polls,
    dedup,
    lastSignal,
    rowsByPoll,
    pendingNoKey,
    pendingUnknown,
    lidVoters,
    merged,
    hidden,
    counts,
    nextSeq: () => ++lastSeq,
    pollFrom,
    canonical,
    ballot,
    applyOk,
    addRow,
    setPending,
    clearPending,
    merge,
    load,
    view(p: PollState): PollView {
      return (p.view ??= pollView(p, p.tally))
    },
  }
}

export type VoteState = ReturnType<typeof createVoteState>

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let set = m.get(k)
  if (!set) m.set(k, (set = new Set()))
  set.add(v)
}
