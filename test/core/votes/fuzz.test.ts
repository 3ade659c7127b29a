import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import type { RawVote } from '../../../store/ports.ts'
import { encryptPollVote, optionHashBytes } from '../../../core/votes/crypto.ts'
import { OWN_PN, rig, sentPoll, vote, voter, type Rig } from './fixtures.ts'

/**
 * Malformed pollUpdateMessages fed to the real engine over a real store: each is journaled
 * as rejected (or pending: unknown poll, no key) with its reason, nothing throws, and no tally
 * changes, one at a time or many in one group commit. Bounded: VOTE_FUZZ_RUNS (default 200)
 * runs per property, payloads up to 1 MiB rarely.
 */

const RUNS = Math.min(5000, Math.max(1, Number(globalThis.process?.env?.VOTE_FUZZ_RUNS) || 200))
const SEED = Number(globalThis.process?.env?.VOTE_FUZZ_SEED) || undefined

type Expect = 'rejected:bad_iv' | 'rejected:truncated' | 'rejected:unknown_option' | 'rejected:bad_plaintext' | 'rejected:too_many_options'
  | 'pending:unknown_poll' | 'pending:no_key' | 'any'

interface Case { what: string; raw: unknown; expect: Expect }

interface World extends Rig {
  multi: Awaited<ReturnType<typeof sentPoll>>
  single: Awaited<ReturnType<typeof sentPoll>>
  /** valid votes already counted, to replay and to corrupt */
  counted: RawVote[]
}

async function world(): Promise<World> {
  const r = await rig()
  const multi = await sentPoll(r.engine, ['Red', 'Blue', 'Green'], 0)
  const single = await sentPoll(r.engine, ['Yes', 'No', 'Maybe'], 1, '120363000000000002@g.us')
  return { ...r, multi, single, counted: [] }
}

async function seed(w: World): Promise<void> {
  for (let i = 1; i <= 4; i++) {
    const m = vote(w.multi, voter(i), { choose: i % 2 ? ['Red', 'Green'] : ['Blue'], ts: 1000 + i })
    const s = vote(w.single, voter(i), { choose: [['Yes', 'No', 'Maybe'][i % 3]!], ts: 1000 + i })
    for (const v of [m, s]) { await w.engine.ingestVote(v); w.counted.push(v) }
  }
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })
const who = fc.integer({ min: 1, max: 40 }).map(voter)
const ts = fc.integer({ min: 0, max: 2 ** 40 })

/** A vote for `poll` encrypted with the right key, whose content is wrong in `content`. */
function encrypted(poll: { id: string; secret: Uint8Array; chatId: string }, v: ReturnType<typeof voter>, selected: Uint8Array[], t: number): RawVote {
  const enc = encryptPollVote({ pollMsgId: poll.id, pollCreatorJid: OWN_PN, voterJid: v.pn, secret: poll.secret, selectedOptions: selected })
  return { pollId: poll.id, chatId: poll.chatId, participant: v.lid, participantAlt: v.pn, fromMe: false, senderTimestampMs: t,
    encPayload: enc.encPayload, encIv: enc.encIv, source: 'notify', receivedAt: t + 5 }
}

/**
 * Like encrypted(), but the plaintext is not a PollVoteMessage at all: it starts with field 2
 * (unknown, so skipped by its wire type) of wire type 7, which no decoder can skip.
 */
function badPlaintext(poll: { id: string; secret: Uint8Array; chatId: string }, v: ReturnType<typeof voter>, junk: Uint8Array, t: number): RawVote {
  const good = encrypted(poll, v, [], t)
  // encryptPollVote encodes a PollVoteMessage, so encrypt the junk one level down, same key
  const enc = rawEncrypt(poll, v.pn, Uint8Array.from([(2 << 3) | 7, ...junk]))
  return { ...good, encPayload: enc.encPayload, encIv: enc.encIv }
}

function cases(w: World): fc.Arbitrary<Case> {
  const poll = fc.constantFrom(w.multi, w.single)
  const counted = fc.constantFrom(...w.counted)
  const flip = (b: Uint8Array, at: number) => { const c = Uint8Array.from(b); c[at % c.length]! ^= 0x40; return c }
  return fc.oneof(
    fc.tuple(counted, fc.oneof(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 13, max: 64 })), bytes(64, 64))
      .map(([v, n, b]): Case => ({ what: `IV of ${n} bytes`, raw: { ...v, encIv: b.slice(0, n) }, expect: 'rejected:bad_iv' })),
    fc.tuple(counted, fc.integer({ min: 0, max: 15 }))
      .map(([v, n]): Case => ({ what: `payload cut to ${n} bytes`, raw: { ...v, encPayload: v.encPayload.slice(0, n) }, expect: 'rejected:truncated' })),
    fc.tuple(counted, fc.integer({ min: 16, max: 200 }))
      .map(([v, n]): Case => ({ what: `payload cut to ${n} bytes`, raw: { ...v, encPayload: v.encPayload.slice(0, Math.min(n, v.encPayload.length - 1)) }, expect: 'pending:no_key' })),
    fc.tuple(counted, fc.nat(), fc.boolean())
      .map(([v, at, iv]): Case => ({ what: `one bit flipped in the ${iv ? 'IV' : 'payload'}`, raw: iv ? { ...v, encIv: flip(v.encIv, at) } : { ...v, encPayload: flip(v.encPayload, at) }, expect: 'pending:no_key' })),
    fc.tuple(counted, fc.string({ minLength: 1, maxLength: 40 }).filter((id) => id !== w.multi.id && id !== w.single.id))
      .map(([v, id]): Case => ({ what: `unknown poll ${JSON.stringify(id)}`, raw: { ...v, pollId: id }, expect: 'pending:unknown_poll' })),
    fc.tuple(poll, who, fc.array(bytes(32, 32), { minLength: 1, maxLength: 3 }), ts)
      .map(([p, v, hashes, t]): Case => ({ what: 'option hashes that match no option', raw: encrypted(p, v, hashes, t), expect: 'rejected:unknown_option' })),
    fc.tuple(who, fc.subarray(['Yes', 'No', 'Maybe'], { minLength: 2 }), ts)
      .map(([v, opts, t]): Case => ({ what: `${opts.length} options on a single-choice poll`, raw: encrypted(w.single, v, opts.map(optionHashBytes), t), expect: 'rejected:too_many_options' })),
    fc.tuple(poll, who, bytes(0, 64), ts)
      .map(([p, v, junk, t]): Case => ({ what: 'plaintext that is no PollVoteMessage', raw: badPlaintext(p, v, junk, t), expect: 'rejected:bad_plaintext' })),
    fc.tuple(poll, who, bytes(16, 300), bytes(12, 12), ts)
      .map(([p, v, payload, iv, t]): Case => ({ what: 'random payload', raw: { ...encrypted(p, v, [], t), encPayload: payload, encIv: iv }, expect: 'pending:no_key' })),
    fc.tuple(poll, who, fc.constantFrom(64 * 1024, 300 * 1024, 1024 * 1024), ts)
      .map(([p, v, n, t]): Case => ({ what: `${n}-byte payload`, raw: { ...encrypted(p, v, [], t), encPayload: new Uint8Array(n).fill(7) }, expect: 'pending:no_key' })),
    counted.map((v): Case => ({ what: 'a counted vote again', raw: { ...v, receivedAt: v.receivedAt + 1 }, expect: 'any' })),
    // wrong types anywhere; the ciphertext is garbage too, so nothing here could be a real vote
    fc.tuple(counted, fc.constantFrom('encPayload', 'encIv', 'pollId', 'chatId', 'senderTimestampMs', 'receivedAt', 'source', 'fromMe', 'msgId', 'participant'),
      fc.constantFrom<unknown>(null, undefined, 42, -1, NaN, Infinity, 1e300, '', 'x', [], [1, 2], {}, { length: 3 }, true, new Uint8Array(0), 2n ** 70n))
      .map(([v, field, value]): Case => ({ what: `${field} = ${String(value)}`, raw: { ...v, encIv: new Uint8Array(5), [field]: value }, expect: 'any' })),
    fc.constantFrom<unknown>(null, undefined, 0, 'vote', [], {}, { pollId: 42 }, { encPayload: 'abc', encIv: 'def' })
      .map((raw): Case => ({ what: `not a vote at all: ${JSON.stringify(raw)}`, raw, expect: 'any' })),
  )
}

const STATES = new Set(['rejected', 'pending', 'dup'])
const REASONS = new Set(['bad_iv', 'truncated', 'bad_plaintext', 'unknown_option', 'too_many_options', 'unknown_poll', 'no_key'])

function newRows(w: World, after: number) {
  return w.db.prepare('SELECT seq, state, reason FROM vote_journal WHERE seq > ? ORDER BY seq').all([after]) as Array<{ seq: number; state: string; reason: string | null }>
}
const maxSeq = (w: World) => (w.db.prepare('SELECT coalesce(max(seq), 0) AS m FROM vote_journal').get() as { m: number }).m

/** The checks every run makes: no tally moved, no update announced, every new row kept but not counted, with a reason. */
function unchanged(w: World, before: string, events: number, after: number): void {
  assert.is(JSON.stringify(w.engine.all()), before, 'no tally changed')
  assert.is(w.events.filter((e) => e.event === 'poll:update').length, events, 'no poll:update announced')
  for (const row of newRows(w, after)) {
    assert.ok(STATES.has(row.state), `row ${row.seq} is ${row.state}`)
    if (row.state !== 'dup') assert.ok(row.reason && REASONS.has(row.reason), `row ${row.seq} has a reason (${row.reason})`)
  }
}

const fuzz = suite('vote path: malformed pollUpdateMessages')

fuzz('one at a time: journaled with the expected reason, never thrown, no tally changed', async () => {
  const w = await world()
  await seed(w)
  const before = JSON.stringify(w.engine.all())
  const events = w.events.filter((e) => e.event === 'poll:update').length
  await fc.assert(fc.asyncProperty(cases(w), async (c) => {
    const at = maxSeq(w)
    let p: Promise<void>
    try { p = w.engine.ingestVote(c.raw as RawVote) } catch (err) { throw new Error(`${c.what}: ingestVote threw ${err}`) }
    await p.catch((err) => { throw new Error(`${c.what}: ingestVote rejected ${err}`) })
    const rows = newRows(w, at)
    if (c.expect !== 'any') {
      assert.is(rows.length, 1, `${c.what}: one journal row`)
      // the same malformed vote generated twice is a duplicate of the first, which had the reason
      if (rows[0]!.state !== 'dup') assert.is(`${rows[0]!.state}:${rows[0]!.reason}`, c.expect, c.what)
    }
    unchanged(w, before, events, at)
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true })
})

fuzz('many at once, in one group commit with valid replays: the same, and a restart or rebuild agrees', async () => {
  const w = await world()
  await seed(w)
  const before = JSON.stringify(w.engine.all())
  const events = w.events.filter((e) => e.event === 'poll:update').length
  await fc.assert(fc.asyncProperty(fc.array(cases(w), { minLength: 2, maxLength: 8 }), async (list) => {
    const at = maxSeq(w)
    const results = await Promise.allSettled(list.map((c) => w.engine.ingestVote(c.raw as RawVote)))
    const failed = results.findIndex((r) => r.status === 'rejected')
    assert.is(failed, -1, failed >= 0 ? `${list[failed]!.what}: ${(results[failed] as PromiseRejectedResult).reason}` : '')
    unchanged(w, before, events, at)
  }), { numRuns: Math.max(1, Math.floor(RUNS / 2)), seed: SEED, includeErrorInReport: true })
  assert.is(JSON.stringify(await w.engine.rebuild()), before, 'the tally derived again from the journal alone')
  await w.engine.retryPending()
  assert.is(JSON.stringify(w.engine.all()), before, 'retrying the pending votes changes nothing')
  await w.engine.close()
  const again = await rig({ db: w.db })
  assert.is(JSON.stringify(again.engine.all()), before, 'a restarted engine over the same store shows the same')
  await again.engine.close()
})

fuzz.run()

// --- helpers

/** encryptPollVote without the PollVoteMessage encoding: any plaintext, the right key. */
function rawEncrypt(poll: { id: string; secret: Uint8Array }, voterJid: string, plain: Uint8Array) {
  const sign = new Uint8Array([...new TextEncoder().encode(`${poll.id}${OWN_PN}${voterJid}Poll Vote`), 1])
  const key0 = createHmac('sha256', new Uint8Array(32)).update(poll.secret).digest()
  const key = createHmac('sha256', key0).update(sign).digest()
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(new TextEncoder().encode(`${poll.id}\u0000${voterJid}`))
  const out = new Uint8Array([...cipher.update(plain), ...cipher.final(), ...cipher.getAuthTag()])
  return { encPayload: out, encIv: new Uint8Array(iv) }
}
