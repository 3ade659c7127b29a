import { supersedes, type Ballot } from '../votes/tally.ts'

/** The ballot a person is counted with in a campaign, and the poll (chat) it was cast in. */
export interface Counted { pollId: string; ballot: Ballot }

/**
 * A campaign's combined result (API.md, "Campaigns"): each person once, with their newest
 * standing selection by sender timestamp among the campaign's polls. It follows each poll's
 * own tally (which already picked every voter's current ballot in that poll, PN and LID
 * merged): a retraction removes only that poll's selection, so the person falls back to what
 * another poll still shows them choosing, or to nothing. Incremental: one change costs the
 * few polls that person voted in, never a walk over every vote.
 */
export function createCampaignTally(optionCount: number) {
  const counts = new Array<number>(optionCount).fill(0)
  /** person → their standing (non-empty) ballot in each poll where they have one */
  const standing = new Map<string, Map<string, Ballot>>()
  /** person → what counts now */
  const counted = new Map<string, Counted>()

  /** Recounts one person; true when what counts for them changed. */
  function recount(voter: string): boolean {
    let best: Counted | undefined
    for (const [pollId, ballot] of standing.get(voter) ?? []) {
      if (!best || supersedes(ballot, best.ballot)) best = { pollId, ballot }
    }
    const old = counted.get(voter)
    if (old?.ballot === best?.ballot && old?.pollId === best?.pollId) return false
    if (old) for (const i of old.ballot.sel) counts[i]!--
    if (best) {
      for (const i of best.ballot.sel) counts[i]!++
      counted.set(voter, best)
    } else counted.delete(voter)
    return true
  }

  return {
    counts: counts as readonly number[],
    /** people counted */
    voters: () => counted.size,
    counted: (): ReadonlyMap<string, Counted> => counted,
    /**
     * A voter's current ballot in one poll of the campaign is now `b` (none, or a retraction:
     * no standing selection there). True when the combined result changed.
     */
    set(pollId: string, voter: string, b: Ballot | undefined): boolean {
      let mine = standing.get(voter)
      if (b && b.sel.length) {
        if (!mine) standing.set(voter, (mine = new Map()))
        if (mine.get(pollId) === b) return false
        mine.set(pollId, b)
      } else {
        if (!mine?.delete(pollId)) return false
        if (!mine.size) standing.delete(voter)
      }
      return recount(voter)
    },
    clear() {
      counts.fill(0)
      standing.clear()
      counted.clear()
    },
  }
}

export type CampaignTally = ReturnType<typeof createCampaignTally>
