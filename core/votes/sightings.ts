/**
 * The duplicate index: payload hash → the journal numbers of its first sighting from each sender
 * (almost always one). It holds every journaled vote for as long as the journal does, so it is
 * kept flat instead of as a Map of hash strings (≈130 B a row): an open-addressing table of the
 * hash's first 64 bits (16 of payloadHash's 32 hex digits) and the row's number, 16–32 B a row.
 *
 * What it answers are candidates: the numbers of every first sighting whose hash starts with the
 * same 64 bits. Two payloads share them about once in 3·10⁷ journals of a million votes, and the
 * caller reads each candidate's row for its sender anyway, so it compares the hash there too and
 * the answer is exact; the table is 12 bytes a slot instead of the 20 the whole hash took.
 * A second candidate for the same 64 bits (another sender's copy of a payload, or that rare other
 * payload) goes to a small Map beside it, as does any hash of another form (none the engine makes).
 */
export function createSightings(initialSlots = 1024) {
  let slots = 0
  /**
   * Per slot, three words: the hash's first two, then the row's number (0: never used, DELETED:
   * probing goes on past it). One array, so a probe costs one cache miss, not two: a million
   * rows make a table of tens of MB, read at random.
   */
  let table = new Uint32Array(0)
  let used = 0
  let live = 0
  /** further candidates of a 64-bit prefix (by its 16 hex digits), and numbers past 2³² − 2 */
  const more = new Map<string, number[]>()
  /** hashes that are not 32 lowercase hex digits, exactly as given */
  const odd = new Map<string, number[]>()
  const key = new Uint32Array(2)

  function alloc(n: number): void {
    slots = n
    table = new Uint32Array(n * WORDS)
    used = live = 0
  }
  alloc(initialSlots)

  /**
   * A hash of 32 lowercase hex digits (as payloadHash makes them): its first 64 bits into `key`;
   * false for anything else (every digit is checked, so the other forms stay apart, in `odd`).
   */
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
      if (w < 2) key[w] = v
    }
    return bad >= 0
  }

  /** The slot holding `key`, else -1 - the first free slot to put it in. */
  function find(): number {
    let i = (key[0]! & 0x7fffffff) % slots
    let free = -1
    for (;;) {
      const at = i * WORDS
      const s = table[at + 2]!
      if (s === 0) return -1 - (free >= 0 ? free : i)
      if (s === DELETED) { if (free < 0) free = i }
      else if (table[at] === key[0] && table[at + 1] === key[1]) return i
      i = i + 1 === slots ? 0 : i + 1
    }
  }

  function put(i: number, seq: number): void {
    const at = i * WORDS
    if (table[at + 2] === 0) used++
    table[at] = key[0]!; table[at + 1] = key[1]!
    table[at + 2] = seq
    live++
  }

  function grow(): void {
    const old = table, n = slots
    // Doubled (rehashing costs about as much as the adds so far): from 3/8 to 3/4 full, 16–32
    // bytes a row. Deleted slots are dropped on the way, so deletions alone do not grow it.
    alloc(live * 2 > n ? n * 2 : n)
    for (let j = 0; j < n; j++) {
      const seq = old[j * WORDS + 2]!
      if (seq === 0 || seq === DELETED) continue
      key[0] = old[j * WORDS]!; key[1] = old[j * WORDS + 1]!
      put(-1 - find(), seq)
    }
  }

  /** `key` as the 16 hex digits it was parsed from: the name of its candidates in `more`. */
  function prefix(): string {
    return (key[0]! >>> 0).toString(16).padStart(8, '0') + (key[1]! >>> 0).toString(16).padStart(8, '0')
  }

  const append = (map: Map<string, number[]>, name: string, seq: number) => { map.set(name, [...(map.get(name) ?? []), seq]) }
  /** Takes `seq` out of `name`'s list in `map`; whether it was there. */
  const remove = (map: Map<string, number[]>, name: string, seq: number): boolean => {
    const list = map.get(name)
    if (!list?.includes(seq)) return false
    const left = list.filter((s) => s !== seq)
    if (left.length) map.set(name, left)
    else map.delete(name)
    return true
  }

  /**
   * Rows read at start, in journal order, three words each like a slot: written one after the
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
        const seq = kept[j * WORDS + 2]!
        if (seq === 0 || seq === DELETED) continue
        key[0] = kept[j * WORDS]!; key[1] = kept[j * WORDS + 1]!
        put(-1 - find(), seq)
      }
    }
    for (let r = 0; r < n; r++) {
      key[0] = rows[r * WORDS]!; key[1] = rows[r * WORDS + 1]!
      const seq = rows[r * WORDS + 2]!
      const i = find()
      if (i >= 0) { append(more, prefix(), seq); continue }
      put(-1 - i, seq)
      if (used * 4 > slots * 3) grow()
    }
  }

  return {
    /**
     * A row read at start: kept in journal order and indexed with the others when the index is
     * first used. Only between clear() and that first use.
     */
    stage(hash: string, seq: number): void {
      if (!(seq > 0)) throw new RangeError(`journal number ${seq}`)
      if (!parse(hash)) return append(odd, hash, seq)
      // more.size first: hashing the string for an empty Map cost a tenth of a start's fold.
      if (seq >= DELETED || (more.size > 0 && more.has(prefix()))) return append(more, prefix(), seq)
      if (!staged || (stagedRows + 1) * WORDS > staged.length) {
        const bigger = new Uint32Array(Math.max(WORDS * 4096, (staged?.length ?? 0) * 2))
        if (staged) bigger.set(staged)
        staged = bigger
      }
      const at = stagedRows++ * WORDS
      staged[at] = key[0]!; staged[at + 1] = key[1]!
      staged[at + 2] = seq
    },
    /**
     * The candidates for this hash, in the order they were added: every first sighting of it, and
     * maybe one of another hash with the same first 64 bits (the caller compares the hash).
     */
    get(hash: string): readonly number[] {
      build()
      if (!parse(hash)) return odd.size > 0 ? odd.get(hash) ?? [] : []
      // more.size first, as in stage: nearly always empty, and a Map lookup hashes the string.
      const extra = more.size > 0 ? more.get(prefix()) : undefined
      const i = find()
      if (i < 0) return extra ?? []
      const seq = table[i * WORDS + 2]!
      return extra ? [seq, ...extra] : [seq]
    },
    add(hash: string, seq: number): void {
      build()
      if (!(seq > 0)) throw new RangeError(`journal number ${seq}`)
      if (!parse(hash)) return append(odd, hash, seq)
      // Beside the table: what it cannot hold, and any later candidate of a prefix already known.
      if (seq >= DELETED || (more.size > 0 && more.has(prefix()))) return append(more, prefix(), seq)
      const i = find()
      if (i >= 0) return append(more, prefix(), seq)
      put(-1 - i, seq)
      if (used * 4 > slots * 3) grow()
    },
    /** Takes back `seq`, added (or staged) with `hash`: journal numbers are unique, so only it goes. */
    drop(hash: string, seq: number): void {
      build()
      if (!parse(hash)) { remove(odd, hash, seq); return }
      const name = prefix()
      if (remove(more, name, seq)) return
      const extra = more.get(name)
      const i = find()
      if (i < 0 || table[i * WORDS + 2] !== seq) return
      // The next candidate of the prefix, if any, becomes the one in the table.
      const next = extra?.shift()
      if (next !== undefined && next < DELETED) {
        table[i * WORDS + 2] = next
        if (!extra!.length) more.delete(name)
        return
      }
      if (next !== undefined) extra!.unshift(next)
      table[i * WORDS + 2] = DELETED
      live--
    },
    /** first sightings indexed (rows read at start and not indexed yet count one each: a start's log does not build the index) */
    size: () => live + stagedRows + [...more.values(), ...odd.values()].reduce((n, seqs) => n + seqs.length, 0),
    /** rows read at start and not yet indexed */
    staged: () => stagedRows,
    /** bytes held by the table (for the bench's profile) */
    bytes: () => table.byteLength + (staged?.byteLength ?? 0),
    clear(): void {
      alloc(initialSlots)
      more.clear()
      odd.clear()
      staged = null
      stagedRows = 0
    },
  }
}

export type Sightings = ReturnType<typeof createSightings>

/** a slot whose row was dropped: probing goes on past it */
const DELETED = 0xffffffff
/** words of a slot: the hash's first 64 bits, then the row's number */
const WORDS = 3

/** hex digit → its value, anything else → -1 (every UTF-16 code unit) */
const HEX = new Int8Array(65536).fill(-1)
for (let d = 0; d < 16; d++) HEX['0123456789abcdef'.charCodeAt(d)] = d
