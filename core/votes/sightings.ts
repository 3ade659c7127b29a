/**
 * The duplicate index: payload hash → the journal number of its first sighting from each sender
 * (almost always one). It holds every journaled vote for as long as the journal does, so it is
 * kept flat instead of as a Map of hash strings (≈130 B a row): an open-addressing table of the
 * hash's 128 bits (four 32-bit words, payloadHash's 32 hex digits) and the row's number, 27–53 B
 * a row. A second sighting of the same payload from another sender (a copy re-sent by someone
 * else) goes to a small Map beside it, as does any hash of another form (none the engine makes).
 */
export function createSightings(initialSlots = 1024) {
  let slots = 0
  /**
   * Per slot, five words: the hash's four, then the row's number (0: never used, DELETED:
   * probing goes on past it). One array, so a probe costs one cache miss, not two: a million
   * rows make a table of tens of MB, read at random.
   */
  let table = new Uint32Array(0)
  let used = 0
  let live = 0
  /** further first sightings of a hash (other senders), hashes that are not hex, numbers past 2³² − 2 */
  const more = new Map<string, number[]>()
  const key = new Uint32Array(4)

  function alloc(n: number): void {
    slots = n
    table = new Uint32Array(n * 5)
    used = live = 0
  }
  alloc(initialSlots)

  /** A hash of 32 lowercase hex digits (as payloadHash makes them) into `key`; false for anything else. */
  function parse(hash: string): boolean {
    if (hash.length !== 32) return false
    let bad = 0
    for (let w = 0; w < 4; w++) {
      let v = 0
      for (let i = w * 8; i < w * 8 + 8; i++) {
        const d = HEX[hash.charCodeAt(i)]!
        bad |= d
        v = (v << 4) | (d & 15)
      }
      key[w] = v
    }
    return bad >= 0
  }

  /** The slot holding `key`, else -1 - the first free slot to put it in. */
  function find(): number {
    let i = (key[0]! & 0x7fffffff) % slots
    let free = -1
    for (;;) {
      const at = i * 5
      const s = table[at + 4]!
      if (s === 0) return -1 - (free >= 0 ? free : i)
      if (s === DELETED) { if (free < 0) free = i }
      else if (table[at] === key[0] && table[at + 1] === key[1] && table[at + 2] === key[2] && table[at + 3] === key[3]) return i
      i = i + 1 === slots ? 0 : i + 1
    }
  }

  function put(i: number, seq: number): void {
    const at = i * 5
    if (table[at + 4] === 0) used++
    table[at] = key[0]!; table[at + 1] = key[1]!; table[at + 2] = key[2]!; table[at + 3] = key[3]!
    table[at + 4] = seq
    live++
  }

  function grow(): void {
    const old = table, n = slots
    // Doubled (rehashing costs about as much as the adds so far): from 3/8 to 3/4 full, 27–53
    // bytes a row. Deleted slots are dropped on the way, so deletions alone do not grow it.
    alloc(live * 2 > n ? n * 2 : n)
    for (let j = 0; j < n; j++) {
      const seq = old[j * 5 + 4]!
      if (seq === 0 || seq === DELETED) continue
      for (let w = 0; w < 4; w++) key[w] = old[j * 5 + w]!
      put(-1 - find(), seq)
    }
  }

  const append = (hash: string, seq: number) => { more.set(hash, [...(more.get(hash) ?? []), seq]) }

  /**
   * Rows read at start, in journal order, five words each like a slot: written one after the
   * other while the journal is scanned, and put into the table, sized for them at once, when it
   * is first asked (the first vote after a start): random inserts into tens of MB, and the
   * doublings on the way, are about a third of a start otherwise.
   */
  let staged: Uint32Array | null = null
  let stagedRows = 0

  function build(): void {
    if (!staged) return
    const rows = staged, n = stagedRows
    staged = null
    stagedRows = 0
    // The size a table grown row by row would have reached: from 3/8 to 3/4 full.
    let size = initialSlots
    while (size * 3 < (n + live) * 4) size *= 2
    if (size > slots) {
      const kept = table, k = slots
      alloc(size)
      for (let j = 0; j < k; j++) {
        const seq = kept[j * 5 + 4]!
        if (seq === 0 || seq === DELETED) continue
        for (let w = 0; w < 4; w++) key[w] = kept[j * 5 + w]!
        put(-1 - find(), seq)
      }
    }
    for (let r = 0; r < n; r++) {
      for (let w = 0; w < 4; w++) key[w] = rows[r * 5 + w]!
      const seq = rows[r * 5 + 4]!
      const i = find()
      if (i >= 0) { append(hex(), seq); continue }
      put(-1 - i, seq)
      if (used * 4 > slots * 3) grow()
    }
  }

  /** `key` as the hex digits it was parsed from. */
  function hex(): string {
    let out = ''
    for (let w = 0; w < 4; w++) out += (key[w]! >>> 0).toString(16).padStart(8, '0')
    return out
  }

  return {
    /**
     * A row read at start: kept in journal order and indexed with the others when the index is
     * first used. Only between clear() and that first use.
     */
    stage(hash: string, seq: number): void {
      if (!(seq > 0)) throw new RangeError(`journal number ${seq}`)
      // more.size first: hashing the string for an empty Map cost a tenth of a start's fold.
      if (!parse(hash) || seq >= DELETED || (more.size > 0 && more.has(hash))) return append(hash, seq)
      if (!staged || (stagedRows + 1) * 5 > staged.length) {
        const bigger = new Uint32Array(Math.max(5 * 4096, (staged?.length ?? 0) * 2))
        if (staged) bigger.set(staged)
        staged = bigger
      }
      const at = stagedRows++ * 5
      staged[at] = key[0]!; staged[at + 1] = key[1]!; staged[at + 2] = key[2]!; staged[at + 3] = key[3]!
      staged[at + 4] = seq
    },
    /** first sightings of this hash, in the order they were added */
    get(hash: string): readonly number[] {
      build()
      // more.size first, as in stage: nearly always empty, and a Map lookup hashes the string.
      const extra = more.size > 0 ? more.get(hash) : undefined
      if (!parse(hash)) return extra ?? []
      const i = find()
      if (i < 0) return extra ?? []
      const seq = table[i * 5 + 4]!
      return extra ? [seq, ...extra] : [seq]
    },
    add(hash: string, seq: number): void {
      build()
      if (!(seq > 0)) throw new RangeError(`journal number ${seq}`)
      // Beside the table: what it cannot hold, and any later sighting of a hash already known.
      if (!parse(hash) || seq >= DELETED || (more.size > 0 && more.has(hash))) return append(hash, seq)
      const i = find()
      if (i >= 0) return append(hash, seq)
      put(-1 - i, seq)
      if (used * 4 > slots * 3) grow()
    },
    drop(hash: string, seq: number): void {
      build()
      const extra = more.get(hash)
      if (extra?.includes(seq)) {
        const left = extra.filter((s) => s !== seq)
        if (left.length) more.set(hash, left)
        else more.delete(hash)
        return
      }
      if (!parse(hash)) return
      const i = find()
      if (i < 0 || table[i * 5 + 4] !== seq) return
      // The next sighting from another sender, if any, becomes the one in the table.
      const next = extra?.shift()
      if (next !== undefined && next < DELETED) {
        table[i * 5 + 4] = next
        if (!extra!.length) more.delete(hash)
        return
      }
      if (next !== undefined) extra!.unshift(next)
      table[i * 5 + 4] = DELETED
      live--
    },
    /** hashes with at least one first sighting (rows read at start and not indexed yet count one each: a start's log does not build the index) */
    size: () => live + stagedRows + [...more.keys()].filter((h) => !parse(h)).length,
    /** rows read at start and not yet indexed */
    staged: () => stagedRows,
    /** bytes held by the table (for the bench's profile) */
    bytes: () => table.byteLength + (staged?.byteLength ?? 0),
    clear(): void {
      alloc(initialSlots)
      more.clear()
      staged = null
      stagedRows = 0
    },
  }
}

export type Sightings = ReturnType<typeof createSightings>

/** a slot whose row was dropped: probing goes on past it */
const DELETED = 0xffffffff

/** hex digit → its value, anything else → -1 (every UTF-16 code unit) */
const HEX = new Int8Array(65536).fill(-1)
for (let d = 0; d < 16; d++) HEX['0123456789abcdef'.charCodeAt(d)] = d
