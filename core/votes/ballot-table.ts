import type { Ballot } from './tally.ts'
import { nibble, tieBreak } from './tie-break.ts'

/** Bytes of one voter's record: sender timestamp (f64), choice (i32), voter (i32), tie (16 bytes). */
const RECORD = 32
/** a record's voter once it left the table (a LID merged into its PN): the record stays a hole */
const GONE = -1

/**
 * Voter keys as small numbers, one per person for every poll's table of an engine: a table keeps
 * a voter's number in its record and finds it through an index of numbers, instead of a Map per
 * poll (≈ 45 B a voter, 3.6 KB for a poll of 100).
 */
export class VoterIds {
  private readonly ids = new Map<string, number>()
  private readonly keys: string[] = []
  /** The number of `key`, given now if it had none; `key` is kept as the one copy (see keyOf). */
  id(key: string): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.keys.push(key) - 1
      this.ids.set(key, id)
    }
    return id
  }
  find(key: string): number | undefined { return this.ids.get(key) }
  keyOf(id: number): string { return this.keys[id]! }
}

/**
 * One poll's current ballots, a fixed 32-byte record per voter in one buffer, read back as
 * Ballot objects when asked. A ballot object per voter (with its boxed timestamp and tie-break
 * string) and a Map entry cost ≈ 150 B of heap and three objects for the collector to trace, for
 * every current voter of every poll; a record and its index entry cost ≈ 45 B and none. The
 * selection is an index into the poll's few distinct choices, whose arrays every ballot read
 * back shares.
 *
 * A Map in every other respect (ReadonlyMap: voters in the order they first voted, a key set
 * again keeps its place, one deleted and set again comes last), so the tally's readers are
 * unchanged.
 */
export class BallotTable implements ReadonlyMap<string, Ballot> {
  private f64 = new Float64Array(0)
  private i32 = new Int32Array(0)
  private u8 = new Uint8Array(0)
  /** records handed out, in the order voters came (holes included) */
  private used = 0
  private live = 0
  /** open addressing: record number + 1 by voter number; 0 empty, -1 a removed entry */
  private index = new Int32Array(8)
  private shift = 29
  private removed = 0
  private readonly choices: Array<readonly number[]> = []
  /** the distinct choices by their text, once there are too many to search (polls of many options) */
  private choiceByText?: Map<string, number>
  /** ties that are not 16 one-byte characters (tieBreak's form of a payload hash), by record */
  private other?: Map<number, string>

  constructor(private readonly ids: VoterIds = new VoterIds()) {}

  get size(): number { return this.live }
  has(voter: string): boolean { return this.slot(voter) !== undefined }
  get(voter: string): Ballot | undefined {
    const s = this.slot(voter)
    return s === undefined ? undefined : this.read(s)
  }

  /** The record number of `voter`'s ballot, if any: for the reads below without a Ballot object. */
  slot(voter: string): number | undefined {
    const id = this.ids.find(voter)
    if (id === undefined) return undefined
    const at = this.find(id)
    return at < 0 ? undefined : this.index[at]! - 1
  }
  /** The selection of the ballot in record `s`. */
  sel(s: number): readonly number[] { return this.choices[this.i32[s * 8 + 2]!]! }
  /** Whether `b` supersedes the ballot in record `s` (tally.ts supersedes, without reading it back). */
  beats(b: Ballot, s: number): boolean { return this.newer(b.ts, b.hash, s) }

  /**
   * Whether a ballot of sender time `ts` and tie-break `hash` supersedes the one in record `s`.
   * `hash` may be a payload hash as the journal has it (32 hex digits) or as tieBreak made it.
   */
  newer(ts: number, hash: string, s: number): boolean {
    const was = this.f64[s * 4]!
    if (ts !== was) return ts > was
    if (!this.other?.has(s)) {
      const u8 = this.u8, o = s * RECORD + 16
      if (hash.length === 16) {
        for (let i = 0; i < 16; i++) {
          const c = hash.charCodeAt(i), d = u8[o + i]!
          if (c !== d) return c > d
        }
        return false
      }
      if (isHex32(hash)) {
        for (let i = 0; i < 16; i++) {
          const c = (nibble(hash.charCodeAt(2 * i)) << 4) | nibble(hash.charCodeAt(2 * i + 1)), d = u8[o + i]!
          if (c !== d) return c > d
        }
        return false
      }
    }
    return tieBreak(hash) > this.tie(s)
  }

  set(voter: string, b: Ballot): this {
    this.setFields(voter, b.ts, b.hash, b.sel)
    return this
  }

  /** set() without a Ballot object: `hash` as newer() takes it. */
  setFields(voter: string, ts: number, hash: string, sel: readonly number[]): void {
    const id = this.ids.id(voter)
    const at = this.find(id)
    let s: number
    if (at >= 0) s = this.index[at]! - 1
    else {
      s = this.alloc()
      this.put(id, s)
      this.i32[s * 8 + 3] = id
    }
    this.f64[s * 4] = ts
    this.i32[s * 8 + 2] = this.choice(sel)
    const u8 = this.u8, o = s * RECORD + 16
    if (hash.length === 16 && oneByte(hash)) {
      for (let i = 0; i < 16; i++) u8[o + i] = hash.charCodeAt(i)
    } else if (!writeHex32(hash, u8, o)) {
      ;(this.other ??= new Map()).set(s, hash)
      return
    }
    this.other?.delete(s)
  }

  delete(voter: string): boolean {
    const id = this.ids.find(voter)
    const at = id === undefined ? -1 : this.find(id)
    if (at < 0) return false
    const s = this.index[at]! - 1
    this.index[at] = -1
    this.removed++
    this.live--
    this.i32[s * 8 + 3] = GONE
    this.other?.delete(s)
    return true
  }

  /** Each voter with its selection: forEach without a Ballot object per voter. */
  forEachSelection(fn: (voter: string, sel: readonly number[]) => void): void {
    const i32 = this.i32
    for (let s = 0; s < this.used; s++) {
      const id = i32[s * 8 + 3]!
      if (id === GONE) continue
      fn(this.ids.keyOf(id), this.choices[i32[s * 8 + 2]!]!)
    }
  }

  forEach(fn: (b: Ballot, voter: string, map: ReadonlyMap<string, Ballot>) => void, thisArg?: unknown): void {
    for (let s = 0; s < this.used; s++) {
      const id = this.i32[s * 8 + 3]!
      if (id !== GONE) fn.call(thisArg, this.read(s), this.ids.keyOf(id), this)
    }
  }
  *entries(): MapIterator<[string, Ballot]> {
    for (let s = 0; s < this.used; s++) {
      const id = this.i32[s * 8 + 3]!
      if (id !== GONE) yield [this.ids.keyOf(id), this.read(s)]
    }
  }
  *keys(): MapIterator<string> { for (const [voter] of this.entries()) yield voter }
  *values(): MapIterator<Ballot> { for (const [, b] of this.entries()) yield b }
  [Symbol.iterator](): MapIterator<[string, Ballot]> { return this.entries() }

  /** The index entry holding voter `id`, or -1. */
  private find(id: number): number {
    const index = this.index, i32 = this.i32, mask = index.length - 1
    for (let at = Math.imul(id, 0x9e3779b1) >>> this.shift; ; at = (at + 1) & mask) {
      const e = index[at]!
      if (e === 0) return -1
      if (e > 0 && i32[(e - 1) * 8 + 3] === id) return at
    }
  }

  /** Indexes record `s` under voter `id` (not in the index yet). */
  private put(id: number, s: number): void {
    if ((this.live + this.removed + 1) * 4 > this.index.length * 3) this.reindex()
    const index = this.index, mask = index.length - 1
    let at = Math.imul(id, 0x9e3779b1) >>> this.shift
    while (index[at]! > 0) at = (at + 1) & mask
    if (index[at] === -1) this.removed--
    index[at] = s + 1
    this.live++
  }

  /** A new index for the live records, at most 3/4 full: removed entries go. */
  private reindex(): void {
    let size = 8
    while (size * 3 < (this.live + 1) * 4) size *= 2
    this.index = new Int32Array(size)
    this.shift = 32 - Math.log2(size)
    this.removed = 0
    const mask = size - 1
    for (let s = 0; s < this.used; s++) {
      const id = this.i32[s * 8 + 3]!
      if (id === GONE) continue
      let at = Math.imul(id, 0x9e3779b1) >>> this.shift
      while (this.index[at] !== 0) at = (at + 1) & mask
      this.index[at] = s + 1
    }
  }

  private alloc(): number {
    if (this.used * RECORD === this.u8.length) {
      // Small polls stay small; a big one grows by half, not double (less slack kept per poll).
      this.resize(Math.max(4 * RECORD, Math.ceil((this.used * 3) / 2) * RECORD))
    }
    // A hole until put() has indexed it (a reindex on the way must not list it yet).
    this.i32[this.used * 8 + 3] = GONE
    return this.used++
  }

  private resize(bytes: number): void {
    const buf = new ArrayBuffer(bytes)
    new Uint8Array(buf).set(this.u8.subarray(0, Math.min(bytes, this.u8.length)))
    this.f64 = new Float64Array(buf)
    this.i32 = new Int32Array(buf)
    this.u8 = new Uint8Array(buf)
  }

  private choice(sel: readonly number[]): number {
    // Most polls have a handful of distinct choices, and selections are shared arrays (state.ts
    // selOfMask): a search by identity, then by content, costs less than two Maps per poll.
    const choices = this.choices
    if (!this.choiceByText) {
      for (let c = 0; c < choices.length; c++) if (choices[c] === sel) return c
      for (let c = 0; c < choices.length; c++) if (sameSelection(choices[c]!, sel)) return c
      if (choices.length < 32) return choices.push(sel) - 1
      this.choiceByText = new Map(choices.map((x, c) => [x.join(), c]))
    }
    const text = sel.join()
    let c = this.choiceByText.get(text)
    if (c === undefined) this.choiceByText.set(text, (c = choices.push(sel) - 1))
    return c
  }


  private tie(s: number): string {
    const other = this.other?.get(s)
    if (other !== undefined) return other
    const u8 = this.u8, o = s * RECORD + 16
    return String.fromCharCode(u8[o]!, u8[o + 1]!, u8[o + 2]!, u8[o + 3]!, u8[o + 4]!, u8[o + 5]!, u8[o + 6]!, u8[o + 7]!,
      u8[o + 8]!, u8[o + 9]!, u8[o + 10]!, u8[o + 11]!, u8[o + 12]!, u8[o + 13]!, u8[o + 14]!, u8[o + 15]!)
  }

  private read(s: number): Ballot {
    return { ts: this.f64[s * 4]!, hash: this.tie(s), sel: this.choices[this.i32[s * 8 + 2]!]! }
  }
}

export function sameSelection(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Each voter of `ballots` with its selection, without reading whole ballots back from a table. */
export function forEachSelection(ballots: ReadonlyMap<string, Ballot>, fn: (voter: string, sel: readonly number[]) => void): void {
  if (ballots instanceof BallotTable) ballots.forEachSelection(fn)
  else ballots.forEach((b, voter) => fn(voter, b.sel))
}

function isHex32(s: string): boolean {
  if (s.length !== 32) return false
  for (let i = 0; i < 32; i++) if (nibble(s.charCodeAt(i)) < 0) return false
  return true
}

/** 32 lowercase hex digits written as the 16 bytes they spell at `u8[o]`; false (bytes left undefined) for anything else. */
function writeHex32(s: string, u8: Uint8Array, o: number): boolean {
  if (s.length !== 32) return false
  let bad = 0
  for (let i = 0; i < 16; i++) {
    const hi = s.charCodeAt(2 * i), lo = s.charCodeAt(2 * i + 1)
    const h = hi < 128 ? HEX[hi]! : -1, l = lo < 128 ? HEX[lo]! : -1
    bad |= h | l
    u8[o + i] = (h << 4) | l
  }
  return bad >= 0
}

/** A lowercase hex digit's value by character code, -1 for any other code below 128. */
const HEX = new Int8Array(128).fill(-1)
for (let c = 0; c < 128; c++) HEX[c] = nibble(c)

function oneByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false
  return true
}
