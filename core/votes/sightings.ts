/**
 * The duplicate index: payload hash → the journal number of its first sighting from each sender
 * (almost always one). It holds every journaled vote for as long as the journal does, so it is
 * kept flat instead of as a Map of hash strings (≈130 B a row): an open-addressing table of the
 * hash's 128 bits (four 32-bit words, payloadHash's 32 hex digits) and the row's number, 32–64 B
 * a row. A second sighting of the same payload from another sender (a copy re-sent by someone
 * else) goes to a small Map beside it, as does any hash of another form (none the engine makes).
 */
export function createSightings(initialSlots = 1024) {
  let slots = 0
  /** four words of key per slot */
  let keys = new Uint32Array(0)
  /** the row's number per slot; 0: never used, -1: deleted (probing goes on past it) */
  let seqs = new Float64Array(0)
  let used = 0
  let live = 0
  /** further first sightings of a hash (other senders), and hashes that are not hex */
  const more = new Map<string, number[]>()
  const key = new Uint32Array(4)

  function alloc(n: number): void {
    slots = n
    keys = new Uint32Array(n * 4)
    seqs = new Float64Array(n)
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
      const s = seqs[i]!
      if (s === 0) return -1 - (free >= 0 ? free : i)
      if (s < 0) { if (free < 0) free = i }
      else if (keys[i * 4] === key[0] && keys[i * 4 + 1] === key[1] && keys[i * 4 + 2] === key[2] && keys[i * 4 + 3] === key[3]) return i
      i = i + 1 === slots ? 0 : i + 1
    }
  }

  function grow(): void {
    const oldKeys = keys, oldSeqs = seqs, n = slots
    // Doubled (rehashing a million rows costs about 0.1 s): from 3/8 to 3/4 full, 32–64 bytes a row.
    // Deleted slots are dropped on the way, so a table of many deletions does not grow for them.
    alloc(live * 2 > n ? n * 2 : n)
    for (let j = 0; j < n; j++) {
      if (oldSeqs[j]! <= 0) continue
      for (let w = 0; w < 4; w++) key[w] = oldKeys[j * 4 + w]!
      const at = -1 - find()
      for (let w = 0; w < 4; w++) keys[at * 4 + w] = key[w]!
      seqs[at] = oldSeqs[j]!
      used++
      live++
    }
  }

  return {
    /** first sightings of this hash, in the order they were added */
    get(hash: string): readonly number[] {
      const extra = more.get(hash)
      if (!parse(hash)) return extra ?? []
      const i = find()
      if (i < 0) return extra ?? []
      return extra ? [seqs[i]!, ...extra] : [seqs[i]!]
    },
    add(hash: string, seq: number): void {
      if (!(seq > 0)) throw new RangeError(`journal number ${seq}`)
      if (!parse(hash)) { more.set(hash, [...(more.get(hash) ?? []), seq]); return }
      const i = find()
      if (i >= 0) { more.set(hash, [...(more.get(hash) ?? []), seq]); return }
      const at = -1 - i
      if (seqs[at] === 0) used++
      keys.set(key, at * 4)
      seqs[at] = seq
      live++
      if (used * 4 > slots * 3) grow()
    },
    drop(hash: string, seq: number): void {
      const extra = more.get(hash)
      if (extra?.includes(seq)) {
        const left = extra.filter((s) => s !== seq)
        if (left.length) more.set(hash, left)
        else more.delete(hash)
        return
      }
      if (!parse(hash)) return
      const i = find()
      if (i < 0 || seqs[i] !== seq) return
      // The next sighting from another sender, if any, becomes the one in the table.
      const next = extra?.shift()
      if (next !== undefined) {
        seqs[i] = next
        if (!extra!.length) more.delete(hash)
        return
      }
      seqs[i] = -1
      live--
    },
    /** hashes with at least one first sighting */
    size: () => live + [...more.keys()].filter((h) => !parse(h)).length,
    /** bytes held by the table (for the bench's profile) */
    bytes: () => keys.byteLength + seqs.byteLength,
    clear(): void {
      alloc(initialSlots)
      more.clear()
    },
  }
}

export type Sightings = ReturnType<typeof createSightings>

/** hex digit → its value, anything else → -1 (every UTF-16 code unit) */
const HEX = new Int8Array(65536).fill(-1)
for (let d = 0; d < 16; d++) HEX['0123456789abcdef'.charCodeAt(d)] = d
