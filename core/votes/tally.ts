import type { PollView, VoteStatus } from '../../contract/polls.ts'
import { BallotTable, forEachSelection, sameSelection, type VoterIds } from './ballot-table.ts'

export { sameSelection }

/** One decrypted, valid vote as the tally sees it. */
export interface Ballot {
  /** sender timestamp, ms */
  readonly ts: number
  /** payload hash: the deterministic tie-break, known from the first sighting on */
  readonly hash: string
  /** selected option indices, ascending; empty = retraction (often shared: never mutate it) */
  readonly sel: readonly number[]
}

/**
 * Newest by sender timestamp wins. Ties go to the greater payload hash rather than the
 * message id: a vote seen at the Signal layer has no id yet, and an order that changed when
 * the id arrived would make the winner depend on delivery order.
 */
export function supersedes(a: Ballot, b: Ballot): boolean {
  return a.ts !== b.ts ? a.ts > b.ts : a.hash > b.hash
}

/**
 * One poll's tally, the only owner of its counts: each voter's current ballot (retractions
 * included, so older votes stay out) and how many current voters chose each option.
 */
export interface Tally {
  readonly counts: readonly number[]
  readonly current: ReadonlyMap<string, Ballot>
  /**
   * Applies one ballot. `counted`: it is now the voter's current vote; `changed`: the poll as
   * shown (results, voters) differs — a newer vote with the same selection changes nothing.
   */
  apply(voter: string, b: Ballot): { counted: boolean; changed: boolean }
  /**
   * apply() without a Ballot object, for the rows of a start: `hash` as the journal holds it
   * (BallotTable.newer). Returns 0 (not counted), COUNTED, or COUNTED | CHANGED.
   */
  applyRow(voter: string, ts: number, hash: string, sel: readonly number[]): number
  /**
   * Joins two voter keys of one person (a LID and its PN, once the mapping is known). Each key
   * holds the newest ballot under it, so the person's current ballot is the newer of the two.
   */
  merge(from: string, into: string): { changed: boolean }
  /**
   * Marks the tally as it is now, to be read back later by `at` whatever changed since: what a
   * lazily built view needs to show the moment it was announced. Cheap (the counts are copied,
   * the ballots are not): from then on each voter's first change keeps the ballot it replaced.
   */
  mark(): TallyMark
  /** Nothing changed since `m`: the live counts and ballots are what it marked. */
  isNow(m: TallyMark): boolean
  /** The counts and ballots at `m` (a new map when anything changed since). */
  at(m: TallyMark): Pick<Tally, 'counts' | 'current'>
}

/** A moment of one tally (Tally.mark). */
export interface TallyMark { readonly counts: readonly number[] }

interface Mark extends TallyMark {
  /** each voter changed since this mark, with the ballot it had here (undefined: none) */
  readonly before: Map<string, Ballot | undefined>
  /** the next mark: changes after it are recorded there */
  next?: Mark
}

export const COUNTED = 1
export const CHANGED = 2
const OUTCOME = [{ counted: false, changed: false }, { counted: true, changed: false }, undefined, { counted: true, changed: true }]

export function createTally(optionCount: number, voters?: VoterIds): Tally {
  return new PollTally(optionCount, voters)
}

/** A class, not an object of closures: ten thousand polls made 80,000 closures and their contexts. */
class PollTally implements Tally {
  readonly counts: number[]
  readonly current: BallotTable
  // Only the newest mark is held here; older ones live as long as someone holds them (each
  // reaches the newer ones through `next`), so unread views cost nothing once dropped.
  private head: Mark | undefined

  constructor(optionCount: number, voters?: VoterIds) {
    this.counts = new Array<number>(optionCount).fill(0)
    this.current = new BallotTable(voters)
  }

  private touch(voter: string): void {
    const head = this.head
    if (head && !head.before.has(voter)) head.before.set(voter, this.current.get(voter))
  }

  apply(voter: string, b: Ballot): { counted: boolean; changed: boolean } {
    return OUTCOME[this.applyRow(voter, b.ts, b.hash, b.sel)]!
  }

  applyRow(voter: string, ts: number, hash: string, sel: readonly number[]): number {
    const { current, counts } = this
    const s = current.slot(voter)
    if (s !== undefined && !current.newer(ts, hash, s)) return 0
    const prev = s === undefined ? undefined : current.sel(s)
    this.touch(voter)
    current.setFields(voter, ts, hash, sel)
    if (prev) for (const i of prev) counts[i]!--
    for (const i of sel) counts[i]!++
    // A first vote that retracts (nothing to take back) shows nothing either.
    return (prev ? !sameSelection(prev, sel) : sel.length > 0) ? COUNTED | CHANGED : COUNTED
  }

  merge(from: string, into: string): { changed: boolean } {
    const { current, counts } = this
    const moved = current.get(from)
    if (!moved) return { changed: false }
    const kept = current.get(into)
    this.touch(from)
    this.touch(into)
    current.delete(from)
    if (!kept || supersedes(moved, kept)) {
      current.set(into, moved)
      if (kept) for (const i of kept.sel) counts[i]!--
      return { changed: true }
    }
    for (const i of moved.sel) counts[i]!--
    // The key changed even when the selection did not, unless the LID had retracted.
    return { changed: moved.sel.length > 0 }
  }

  mark(): TallyMark {
    const head = this.head
    if (head && !head.before.size) return head
    const m: Mark = { counts: [...this.counts], before: new Map() }
    if (head) head.next = m
    return (this.head = m)
  }

  isNow(m: TallyMark): boolean {
    return m === this.head && !this.head.before.size
  }

  at(m: TallyMark): Pick<Tally, 'counts' | 'current'> {
    const { current } = this
    if (this.isNow(m)) return { counts: this.counts, current }
    // The first ballot recorded for a voter since `m`, in mark order, is the one it had at `m`.
    const before = new Map<string, Ballot | undefined>()
    for (let x: Mark | undefined = m as Mark; x; x = x.next) for (const [v, b] of x.before) if (!before.has(v)) before.set(v, b)
    const past = new Map<string, Ballot>()
    current.forEach((b, v) => {
      const was = before.has(v) ? before.get(v) : b
      if (was) past.set(v, was)
    })
    // Voters that left since (a LID merged into its PN).
    for (const [v, b] of before) if (b && !current.has(v)) past.set(v, b)
    return { counts: m.counts, current: past }
  }
}

/**
 * What `base` would become, without changing it: a copy of the counts and the ballots applied
 * since, over the base's own. The engine uses it to tell, before a commit, which votes of a batch
 * change a voter's selection (the webhook events written in that commit).
 */
export function tallyPreview(base: Tally): Pick<Tally, 'counts' | 'apply'> & { previous(voter: string): Ballot | undefined } {
  const counts = [...base.counts]
  const applied = new Map<string, Ballot>()
  const previous = (voter: string) => (applied.has(voter) ? applied.get(voter) : base.current.get(voter))
  return {
    counts,
    previous,
    apply(voter, b) {
      const prev = previous(voter)
      if (prev && !supersedes(b, prev)) return { counted: false, changed: false }
      applied.set(voter, b)
      if (prev) for (const i of prev.sel) counts[i]!--
      for (const i of b.sel) counts[i]!++
      return { counted: true, changed: prev ? !sameSelection(prev.sel, b.sel) : b.sel.length > 0 }
    },
  }
}


export interface PollShape {
  question: string
  options: readonly string[]
  /** option hashes (hex), in option order */
  hashes: readonly string[]
  chatId: string
  timestamp: number
  selectableCount: number
}

/**
 * The contract's poll object; every option appears in results, 0 when unvoted. Views share
 * their selection arrays with the tally and with each other: read them, never mutate them.
 */
export function pollView(p: PollShape, t: Pick<Tally, 'counts' | 'current'>): PollView {
  const optionHashes: Record<string, string> = {}
  const results: Record<string, number> = {}
  p.options.forEach((text, i) => {
    optionHashes[p.hashes[i]] = text
    results[text] = t.counts[i]
  })
  const voters: Record<string, string[]> = {}
  // A callback per voter, not for..of with [key, value]: this runs for every voter of every
  // changed poll after every batch, and entry arrays (or ballots read back) cost half the time.
  // Voters who chose the same share one array of hashes (few distinct choices, many voters).
  const shown = new Map<readonly number[], string[]>()
  forEachSelection(t.current, (voter, sel) => {
    if (!sel.length) return
    let hashes = shown.get(sel)
    if (!hashes) shown.set(sel, (hashes = sel.map((i) => p.hashes[i]!)))
    voters[voter] = hashes
  })
  return {
    question: p.question,
    options: [...p.options],
    optionHashes,
    results,
    voters,
    chatId: p.chatId,
    timestamp: p.timestamp,
    selectableCount: p.selectableCount,
  }
}

/** Whether two views show the same tally (results and each voter's selection), whatever the key order. */
export function sameTally(a: PollView, b: PollView): boolean {
  const ra = Object.keys(a.results), va = Object.keys(a.voters)
  if (ra.length !== Object.keys(b.results).length || va.length !== Object.keys(b.voters).length) return false
  if (ra.some((k) => a.results[k] !== b.results[k])) return false
  return !va.some((k) => !b.voters[k] || b.voters[k].join() !== a.voters[k].join())
}

/** A journal row reduced to what its history status depends on. */
export interface HistoryItem {
  seq: number
  state: 'ok' | 'dup' | 'pending' | 'rejected'
  voter?: string
  ballot?: Ballot
}

/**
 * Current status of every row, replayed in arrival (journal) order: a vote that became the
 * voter's current one is `counted` until a newer one arrives (then `superseded`); one that
 * arrived after a newer vote was already in is `late`. A pending vote resolved later is
 * ranked by its arrival, so it may show `superseded` where `late` would also be fair.
 */
export function replayStatuses(items: readonly HistoryItem[]): Map<number, VoteStatus> {
  const out = new Map<number, VoteStatus>()
  const best = new Map<string, HistoryItem>()
  for (const it of items) {
    if (it.state === 'dup') { out.set(it.seq, 'duplicate'); continue }
    if (it.state !== 'ok' || !it.ballot || !it.voter) { out.set(it.seq, it.state === 'pending' ? 'pending' : 'rejected'); continue }
    const prev = best.get(it.voter)
    if (prev && !supersedes(it.ballot, prev.ballot!)) { out.set(it.seq, 'late'); continue }
    if (prev) out.set(prev.seq, 'superseded')
    best.set(it.voter, it)
    out.set(it.seq, 'counted')
  }
  return out
}
