import * as nodeCrypto from 'node:crypto'
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { decodeVoteMessage, encodeVoteMessage } from './vote-message.ts'

/** sha256 hex of an option text: how a vote names an option, and the key of `optionHashes`. */
export function optionHash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The same hash as bytes, the form a PollVoteMessage carries. */
export function optionHashBytes(text: string): Uint8Array {
  return createHash('sha256').update(text).digest()
}

/**
 * A vote's identity: its encrypted payload (the IV is 12 random bytes per vote), scoped to
 * the poll. 128 bits are plenty against accidental collisions and keep the dedup map small.
 */
export function payloadHash(pollId: string, encIv: Uint8Array, encPayload: Uint8Array): string {
  if (oneShot) return oneShot('sha256', Buffer.concat([Buffer.from(`${pollId}\0`), encIv, encPayload]), 'hex').slice(0, 32)
  return createHash('sha256').update(pollId).update('\0').update(encIv).update(encPayload)
    .digest().toString('hex', 0, 16)
}

/**
 * crypto.hash (Node 20.12 and later, Deno): one call instead of a Hash object and four updates,
 * 0.6 against 2 µs a vote. Looked up on the namespace: a named import of it would not load on an
 * older Node 20.
 */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Buffer, encoding: 'hex') => string }).hash

export interface EncryptVoteInput {
  pollMsgId: string
  pollCreatorJid: string
  voterJid: string
  secret: Uint8Array
  /** option hashes as bytes (optionHashBytes); empty retracts */
  selectedOptions: Uint8Array[]
  /** 12 bytes; random when omitted */
  iv?: Uint8Array
}

/**
 * The exact inverse of Baileys' decryptPollVote (FAKE-WHATSAPP.md, "Voters and votes").
 * Baileys has no encrypt side; tests, the bench and the fake WhatsApp voters use this one.
 */
export function encryptPollVote(input: EncryptVoteInput): { encPayload: Uint8Array; encIv: Uint8Array } {
  const { pollMsgId, pollCreatorJid, voterJid, secret } = input
  const sign = Buffer.concat([
    Buffer.from(pollMsgId), Buffer.from(pollCreatorJid), Buffer.from(voterJid),
    Buffer.from('Poll Vote'), Buffer.from([1]),
  ])
  const key0 = createHmac('sha256', Buffer.alloc(32)).update(secret).digest()
  const encKey = createHmac('sha256', key0).update(sign).digest()
  const iv = input.iv ?? randomBytes(12)
  const plain = encodeVoteMessage(input.selectedOptions)
  const cipher = createCipheriv('aes-256-gcm', encKey, iv)
  cipher.setAAD(Buffer.from(`${pollMsgId}\u0000${voterJid}`))
  const encPayload = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  return { encPayload: new Uint8Array(encPayload), encIv: new Uint8Array(iv) }
}

export type DecryptResult =
  | { ok: true; selected: Uint8Array[]; creatorJid: string; voterJid: string }
  | { ok: false; reason: 'no_key' | 'bad_plaintext' }

/**
 * Tries every (creator, voter) pair in the order given; the GCM tag decides which one is
 * right, so the caller orders the likely pair first. A pair whose tag verifies but whose
 * plaintext is not a PollVoteMessage is a malformed vote, not a wrong key.
 *
 * Baileys' decryptPollVote, step for step (test/core/votes/crypto.test.ts compares the two), but
 * with its two HMACs cached: HMAC(0³², secret) is the same for every vote of a poll, and the
 * AES key, HMAC(that, pollId‖creator‖voter‖"Poll Vote"‖1), for every vote of one voter.
 */
export function decryptWithCandidates(
  vote: { encPayload: Uint8Array; encIv: Uint8Array },
  pollMsgId: string,
  secret: Uint8Array,
  creators: readonly string[],
  voters: readonly string[],
): DecryptResult {
  for (const pollCreatorJid of creators) {
    for (const voterJid of voters) {
      try {
        const plain = openVote(vote, voteKey(secret, pollMsgId, pollCreatorJid, voterJid), pollMsgId, voterJid)
        if (!plain) continue
        return { ok: true, selected: decodeVoteMessage(plain), creatorJid: pollCreatorJid, voterJid }
      } catch (err) {
        if (!isAuthFailure(err)) return { ok: false, reason: 'bad_plaintext' }
      }
    }
  }
  return { ok: false, reason: 'no_key' }
}

const GCM_TAG = 16
const ZERO_KEY = new Uint8Array(32)

/** Per poll secret (keyed by the secret's object, which the poll keeps for its life): HMAC(0³², secret). */
const pollKeys = new WeakMap<Uint8Array, Buffer>()

/**
 * The AES keys of recent (poll, creator, voter) triples, so a voter who changes their vote is
 * served from here. Nested maps, so a lookup builds no string; the poll's secret is kept to tell
 * apart two accounts' polls that share an id. Bounded (about 150 B a key): once PAIR_KEYS are
 * kept, all are dropped and the cache fills again, so memory follows neither the journal nor the
 * number of voters.
 */
const PAIR_KEYS = 10_000
const pairKeys = new Map<string, { secret: Uint8Array; byCreator: Map<string, Map<string, Buffer>> }>()
let pairsKept = 0

function voteKey(secret: Uint8Array, pollMsgId: string, creatorJid: string, voterJid: string): Buffer {
  let poll = pairKeys.get(pollMsgId)
  if (!poll || poll.secret !== secret) pairKeys.set(pollMsgId, (poll = { secret, byCreator: new Map() }))
  let byVoter = poll.byCreator.get(creatorJid)
  if (!byVoter) poll.byCreator.set(creatorJid, (byVoter = new Map()))
  let key = byVoter.get(voterJid)
  if (key) return key
  let key0 = pollKeys.get(secret)
  if (!key0) pollKeys.set(secret, (key0 = createHmac('sha256', ZERO_KEY).update(secret).digest()))
  // The UTF-8 of one string is the concatenation of its parts' UTF-8: Baileys' five buffers.
  key = createHmac('sha256', key0).update(`${pollMsgId}${creatorJid}${voterJid}Poll Vote\u0001`).digest()
  if (++pairsKept > PAIR_KEYS) {
    pairsKept = 1
    pairKeys.clear()
    pairKeys.set(pollMsgId, (poll = { secret, byCreator: new Map() }))
    poll.byCreator.set(creatorJid, (byVoter = new Map()))
  }
  byVoter.set(voterJid, key)
  return key
}

/** AES-256-GCM with the tag at the end of the payload, as aesDecryptGCM; undefined when the payload cannot hold a tag. */
function openVote(vote: { encPayload: Uint8Array; encIv: Uint8Array }, key: Buffer, pollMsgId: string, voterJid: string): Buffer | undefined {
  const { encPayload, encIv } = vote
  if (encPayload.length < GCM_TAG) return undefined
  const d = createDecipheriv('aes-256-gcm', key, encIv)
  d.setAAD(Buffer.from(`${pollMsgId}\u0000${voterJid}`))
  d.setAuthTag(encPayload.subarray(encPayload.length - GCM_TAG))
  const head = d.update(encPayload.subarray(0, encPayload.length - GCM_TAG))
  const tail = d.final()
  return tail.length ? Buffer.concat([head, tail]) : head
}

// Node reports a GCM tag mismatch as "Unsupported state or unable to authenticate data" (and a
// short tag as "Invalid authentication tag length"); anything else came after authentication.
function isAuthFailure(err: unknown): boolean {
  return err instanceof Error && /authenticat/i.test(err.message)
}
