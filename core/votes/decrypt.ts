import type { PendingReason, RawVote } from '../../store/ports.ts'
import { decryptWithCandidates } from './crypto.ts'
import { isLid, voterCandidates, voterKey, withHint } from '../identity.ts'
import type { Person } from '../identity.ts'

/** What the engine needs of a poll to decrypt and check a vote. */
export interface DecryptablePoll {
  id: string
  secret: Uint8Array
  /** option hash (hex) → option index */
  hashIndex: Map<string, number>
  /** 0 = any number of options */
  selectableCount: number
  /** the creator JID that last worked for this poll */
  creatorHint?: string
  /** the kind of voter JID that last worked for this poll */
  voterHint?: 'pn' | 'lid'
}

export type { PendingReason }
export type RejectReason = 'bad_iv' | 'truncated' | 'bad_plaintext' | 'unknown_option' | 'too_many_options'

/** A vote's derived state: everything the journal row holds beyond the raw vote. */
export type Derived =
  | { state: 'ok'; voterKey: string; creatorJid: string; voterJid: string; selected: string[]; sel: number[]; mask?: number }
  | { state: 'pending'; reason: PendingReason }
  | { state: 'rejected'; reason: RejectReason; creatorJid?: string; voterJid?: string; selected?: string[] }

const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Decrypts one vote and checks it against its poll. Never throws: bad input is a rejected
 * vote with a reason, a key that does not fit (yet) is a pending one. Pure: the pair that
 * worked is in the result, for the caller to try first next time (hintsOf).
 */
export function deriveVote(
  raw: RawVote,
  poll: DecryptablePoll | undefined,
  person: Person,
  /** creatorCandidates() of the own identity */
  ownJids: string[],
): Derived {
  if (!(raw.encIv instanceof Uint8Array) || raw.encIv.length !== IV_BYTES) return { state: 'rejected', reason: 'bad_iv' }
  // A payload shorter than the GCM tag cannot be a vote; a longer truncated one is
  // indistinguishable from a wrong key and stays pending.
  if (!(raw.encPayload instanceof Uint8Array) || raw.encPayload.length < TAG_BYTES) return { state: 'rejected', reason: 'truncated' }
  if (!poll) return { state: 'pending', reason: 'unknown_poll' }

  const creators = withHint(ownJids, poll.creatorHint)
  const voters = voterCandidates(person, poll.voterHint)
  const res = decryptWithCandidates(raw, poll.id, poll.secret, creators, voters)
  if (!res.ok) return res.reason === 'no_key' ? { state: 'pending', reason: 'no_key' } : { state: 'rejected', reason: 'bad_plaintext' }

  const { creatorJid, voterJid } = res
  const { bytes, texts } = optionsOf(poll)
  const selected: string[] = []
  const sel: number[] = []
  for (const h of res.selected) {
    const i = indexOf(bytes, h)
    if (i < 0) return { state: 'rejected', reason: 'unknown_option', selected: res.selected.map(hex), creatorJid, voterJid }
    // The poll's own hash strings, shared: no 64-character string made and hashed per vote.
    selected.push(texts[i]!)
    if (!sel.includes(i)) sel.push(i)
  }
  if (sel.length > 1) sel.sort(byNumber)
  // WhatsApp clients never send more than a single-choice poll allows; such a vote is not
  // one a person could have cast, so it is kept in the journal but not counted.
  if (poll.selectableCount > 0 && sel.length > poll.selectableCount) {
    return { state: 'rejected', reason: 'too_many_options', selected, creatorJid, voterJid }
  }
  return { state: 'ok', voterKey: voterKey(person) ?? voterJid, selected, sel, mask: maskOf(sel), creatorJid, voterJid }
}

const byNumber = (a: number, b: number) => a - b

/** A poll's option hashes as bytes (what a vote carries) beside their hex (how the poll names them), in index order. */
const optionCache = new WeakMap<ReadonlyMap<string, number>, { bytes: Buffer[]; texts: string[] }>()
function optionsOf(poll: DecryptablePoll): { bytes: Buffer[]; texts: string[] } {
  let o = optionCache.get(poll.hashIndex)
  if (!o) {
    o = { bytes: [], texts: [] }
    for (const [text, i] of poll.hashIndex) {
      const bytes = Buffer.from(text, 'hex')
      // Only what hex() can produce matches, as when votes were looked up by their hex.
      if (bytes.toString('hex') === text) { o.texts[i] = text; o.bytes[i] = bytes }
    }
    optionCache.set(poll.hashIndex, o)
  }
  return o
}

function indexOf(bytes: readonly Buffer[], h: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b && b.length === h.length && b[0] === h[0] && b.equals(h)) return i
  }
  return -1
}
// protobufjs hands out Buffers under Node; anything else gets wrapped (no copy).
const hex = (h: Uint8Array) => (Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.byteLength)).toString('hex')

/** Option indices as a bitmask (what the journal folds on start), when they fit in 31 bits. */
export function maskOf(sel: readonly number[]): number | undefined {
  let m = 0
  for (const i of sel) {
    if (i > 30) return undefined
    m |= 1 << i
  }
  return m
}

/** The hints a decrypted vote leaves for the next vote of its poll: the creator and voter JID kinds that worked. */
export function hintsOf(d: Derived): Pick<DecryptablePoll, 'creatorHint' | 'voterHint'> | undefined {
  if (d.state === 'pending' || !d.creatorJid || !d.voterJid) return undefined
  return { creatorHint: d.creatorJid, voterHint: isLid(d.voterJid) ? 'lid' : 'pn' }
}
