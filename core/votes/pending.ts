import type { PendingReason } from './decrypt.ts'

/** A journal row that could not be decrypted yet: what it waits for and who sent it. */
export interface PendingRow {
  seq: number
  hash: string
  pollId: string
  reason: PendingReason
  /** the sender's JIDs (normalised, both addresses where known); the first keys the per-sender cap */
  sender: readonly string[]
}

export interface PendingLimits {
  /** pending rows one sender may have; past it their oldest expire (default 200) */
  perSender?: number
  /** pending rows in all; past it the oldest expire (default 20,000) */
  total?: number
}

/**
 * The index of pending rows: their numbers, what they wait for and who sent them, never their
 * payloads (those stay in the store and are read back, a chunk at a time, when a retry needs
 * them). Anybody on WhatsApp can send well-formed votes nobody can decrypt, so the index is
 * bounded: per sender and in all, the oldest row past the cap is handed back to be expired.
 * Rows are kept in journal order (a row keeps its place when a retry leaves it pending).
 */
export function createPendingIndex(limits: PendingLimits = {}) {
  const perSender = limits.perSender ?? 200
  const total = limits.total ?? 20_000
  const rows = new Map<number, PendingRow>()
  const bySender = new Map<string, Set<number>>()
  const byPoll = new Map<string, Set<number>>()
  let noKey = 0

  const keyOf = (r: PendingRow) => r.sender[0] ?? ''

  function remove(seq: number): PendingRow | undefined {
    const r = rows.get(seq)
    if (!r) return undefined
    rows.delete(seq)
    if (r.reason === 'no_key') noKey--
    dropFrom(bySender, keyOf(r), seq)
    dropFrom(byPoll, r.pollId, seq)
    return r
  }

  /** Adds (or updates) a row; returns the rows that fell out over the caps, oldest first. */
  function add(row: PendingRow): PendingRow[] {
    const known = rows.get(row.seq)
    if (known) {
      if (known.reason !== row.reason) noKey += row.reason === 'no_key' ? 1 : -1
      known.reason = row.reason
      return []
    }
    rows.set(row.seq, row)
    if (row.reason === 'no_key') noKey++
    addTo(bySender, keyOf(row), row.seq)
    addTo(byPoll, row.pollId, row.seq)
    const out: PendingRow[] = []
    const mine = bySender.get(keyOf(row))!
    while (mine.size > perSender) out.push(remove(mine.values().next().value!)!)
    while (rows.size > total) out.push(remove(rows.keys().next().value!)!)
    return out
  }

  return {
    add,
    remove,
    has: (seq: number) => rows.has(seq),
    isNoKey: (seq: number) => rows.get(seq)?.reason === 'no_key',
    /** rows waiting for this poll, in journal order */
    waitingFor: (pollId: string): number[] => [...(byPoll.get(pollId) ?? [])],
    /** rows waiting for a key, in journal order; only those whose sender `match` accepts */
    noKeySeqs(match?: (sender: readonly string[]) => boolean): number[] {
      const out: number[] = []
      for (const r of rows.values()) if (r.reason === 'no_key' && (!match || match(r.sender))) out.push(r.seq)
      return out
    },
    counts: () => ({ unknown_poll: rows.size - noKey, no_key: noKey }),
    size: () => rows.size,
    clear() {
      rows.clear()
      bySender.clear()
      byPoll.clear()
      noKey = 0
    },
  }
}

export type PendingIndex = ReturnType<typeof createPendingIndex>

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let set = m.get(k)
  if (!set) m.set(k, (set = new Set()))
  set.add(v)
}

function dropFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const set = m.get(k)
  if (set?.delete(v) && !set.size) m.delete(k)
}
