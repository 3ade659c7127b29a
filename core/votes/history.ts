import type { VoteHistoryEntry } from '../../contract/polls.ts'
import type { StoredVote, VoteJournal } from '../../store/ports.ts'
import { namedSender, norm } from '../identity.ts'
import type { OwnJids } from '../identity.ts'
import type { PollState, VoteState } from './state.ts'
import { replayStatuses } from './tally.ts'
import type { HistoryItem } from './tally.ts'

/**
 * GET /polls/:id/votes: every journal row of the poll, oldest first, with its current status.
 * A duplicate shows the voter and choice of the vote it repeats. Read from the store: this is
 * not the hot path, and the journal is what the history is about.
 */
export async function pollHistory(
  deps: { state: VoteState; journal: VoteJournal; identity: { ownJids(): OwnJids } },
  p: PollState,
): Promise<VoteHistoryEntry[]> {
  const { state, identity } = deps
  const rows = await storedRows(deps, [p.id])
  const bySeq = new Map(rows.map((r) => [r.seq, r]))
  const items = rows.map((r): HistoryItem => r.state === 'ok' && r.voterKey
    ? { seq: r.seq, state: 'ok', voter: state.canonical(r.voterKey), ballot: state.ballot(p, r.raw.senderTimestampMs, r.hash, r.mask, r.selected) }
    : { seq: r.seq, state: r.state })
  const statuses = replayStatuses(items)
  const entries = rows.map((r) => {
    const shown = r.state === 'dup' && r.dupOf !== undefined ? bySeq.get(r.dupOf) ?? r : r
    const entry: VoteHistoryEntry = {
      voter: shown.state === 'ok' && shown.voterKey ? state.canonical(shown.voterKey) : sender(shown, identity.ownJids(), state.canonical),
      // Counted votes in option order; others as decrypted, an unknown hash shown as is.
      selected: shown.state === 'ok'
        ? state.ballot(p, 0, '', shown.mask, shown.selected).sel.map((i) => p.options[i]!)
        : (shown.selected ?? []).map((h) => { const i = p.hashIndex.get(h); return i === undefined ? h : p.options[i]! }),
      senderTimestamp: r.raw.senderTimestampMs,
      receivedAt: r.raw.receivedAt,
      status: statuses.get(r.seq) ?? 'pending',
    }
    if (r.reason && (r.state === 'pending' || r.state === 'rejected')) entry.reason = r.reason
    return entry
  })
  // Stable: rows come in journal order, so equal receivedAt keeps insertion order.
  return entries.sort((a, b) => a.receivedAt - b.receivedAt)
}

/**
 * Every stored row of these polls (all known polls by default), poll after poll, each in journal
 * order: read from the store within each poll's span of journal numbers, which is all memory
 * keeps of a poll's rows.
 */
export async function storedRows(deps: { state: VoteState; journal: VoteJournal }, pollIds?: readonly string[]): Promise<StoredVote[]> {
  const out: StoredVote[] = []
  for (const id of pollIds ?? [...deps.state.polls()].map((p) => p.id)) {
    const span = deps.state.span(id)
    if (span) out.push(...await deps.journal.pollRows(id, span.from, span.to))
  }
  return out
}

/** Who sent a vote that was not counted: the phone number where the vote shows one. */
function sender(row: StoredVote, own: OwnJids, canonical: (key: string) => string): string {
  if (row.raw.fromMe) return norm(own.pn) || norm(own.lid)
  const p = namedSender(row.raw)
  const key = p.pn ?? p.lid
  return key ? canonical(key) : row.raw.participant ?? row.raw.chatId
}
