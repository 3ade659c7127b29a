import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { openDb } from '../../../store/sqlite/db.ts'
import type { RawVote } from '../../../store/ports.ts'
import { optionHashBytes } from '../../../core/votes/crypto.ts'
import { createPendingIndex } from '../../../core/votes/pending.ts'
import { fakeLidMapping, rig, sentPoll, tempDir, vote, voter, type Rig } from './fixtures.ts'

/**
 * The holes a review found in the vote path (issue #11): a copied vote must not suppress the
 * real one, junk must stay bounded and never hold back real votes, a full disk must neither
 * lose nor confuse anything.
 */

const alice = voter(1)
const bob = voter(2)
const mallory = voter(3)

const history = async (r: Rig, id: string) => (await r.engine.votes(id))!.map((v) => [v.voter, v.status, v.reason ?? ''])

/** Mallory re-sends Alice's ciphertext as her own: same payload, same IV, another sender. */
function copyOf(real: RawVote, by: typeof mallory): RawVote {
  return { ...real, participant: by.lid, participantAlt: by.pn, msgId: undefined }
}

// ---

const copied = suite('createVoteEngine: a copied vote')

copied('a copy sent first by someone else is their undecryptable vote; the real one still counts', async () => {
  const r = await rig()
  const p = await sentPoll(r.engine)
  const real = vote(p, alice, { choose: ['Red'], ts: 1000 })
  await r.engine.ingestVote(copyOf(real, mallory))
  await r.engine.ingestVote(real)
  assert.equal(r.engine.get(p.id)!.voters, { [alice.pn]: [optionHex('Red')] })
  assert.equal(r.engine.get(p.id)!.results, { Red: 1, Blue: 0, Green: 0 })
  assert.equal(await history(r, p.id), [[mallory.pn, 'pending', 'no_key'], [alice.pn, 'counted', '']], 'the copy stays under its sender')
})

copied('the same person delivering it again is a duplicate, under either address', async () => {
  const r = await rig()
  const p = await sentPoll(r.engine)
  const real = vote(p, alice, { choose: ['Red'], ts: 1000 })
  await r.engine.ingestVote(copyOf(real, mallory))
  await r.engine.ingestVote(real)
  // redelivered by PN only (no alt): still Alice
  await r.engine.ingestVote({ ...real, participant: alice.pn, participantAlt: undefined })
  await r.engine.ingestVote(copyOf(real, mallory))
  assert.equal((await history(r, p.id)).map((h) => h[1]), ['pending', 'counted', 'duplicate', 'duplicate'])
  assert.equal(r.engine.get(p.id)!.results.Red, 1)
})

copied('the upsert sighting joins the Signal-layer sighting of the same sender only', async () => {
  const r = await rig()
  const p = await sentPoll(r.engine)
  const real = vote(p, alice, { choose: ['Blue'], ts: 1000 })
  await r.engine.ingestVote({ ...copyOf(real, mallory), source: 'signal' })
  await r.engine.ingestVote({ ...real, source: 'signal' })
  await r.engine.ingestVote({ ...real, msgId: 'ALICE1' })
  await r.engine.ingestVote({ ...copyOf(real, mallory), msgId: 'MAL1' })
  const rows = r.db.prepare('SELECT participant, msg_id, confirmed, state FROM vote_journal ORDER BY seq').raw(true).all()
  assert.equal(rows, [[mallory.lid, 'MAL1', 1, 'pending'], [alice.lid, 'ALICE1', 1, 'ok']])
})

copied('after a restart the dedup index still tells senders apart', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const p = await sentPoll(first.engine)
    const real = vote(p, alice, { choose: ['Red'], ts: 1000 })
    await first.engine.ingestVote(copyOf(real, mallory))
    await first.engine.close()
    first.db.close()
    const second = await rig({ db: openDb(tmp.dir) })
    await second.engine.ingestVote(real)
    await second.engine.ingestVote(real)
    assert.equal((await history(second, p.id)).map((h) => h[1]), ['pending', 'counted', 'duplicate'])
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

// ---

const junk = suite('createVoteEngine: undecryptable junk')

const junkVote = (from: typeof mallory, pollId: string, i: number): RawVote => ({
  pollId, chatId: '120363000000000001@g.us', participant: from.lid, participantAlt: from.pn, fromMe: false,
  senderTimestampMs: 1000 + i, encPayload: new Uint8Array(randomBytes(48)), encIv: new Uint8Array(randomBytes(12)),
  source: 'notify', receivedAt: 2000 + i,
})

junk('pending votes are capped per sender and in all; the oldest expire with a reason', async () => {
  const r = await rig({ pendingLimits: { perSender: 5, total: 8 } })
  const p = await sentPoll(r.engine)
  for (let i = 0; i < 7; i++) await r.engine.ingestVote(junkVote(mallory, p.id, i))
  assert.equal(r.engine.stats().pending.no_key, 5, 'five per sender')
  for (let i = 0; i < 4; i++) await r.engine.ingestVote(junkVote(bob, `RANDOM${i}`, i))
  assert.equal(r.engine.stats().pending, { unknown_poll: 4, no_key: 4 }, 'eight in all: the oldest went first')
  const states = r.db.prepare("SELECT count(*) FROM vote_journal WHERE state = 'rejected' AND reason = 'expired'").raw(true).get()
  assert.equal(states, [3], 'expired rows stay in the journal with their reason')
  assert.is(r.engine.stats().rejected, 3)
  assert.ok((await history(r, p.id)).slice(0, 2).every((h) => h[1] === 'rejected' && h[2] === 'expired'))
  // a genuine vote of a capped sender still counts
  await r.engine.ingestVote(vote(p, mallory, { choose: ['Green'], ts: 5000 }))
  assert.is(r.engine.get(p.id)!.results.Green, 1)
})

junk('votes pending longer than the age limit expire at start', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const p = await sentPoll(first.engine)
    await first.engine.ingestVote(junkVote(mallory, p.id, 0))
    await first.engine.ingestVote({ ...junkVote(mallory, p.id, 1), receivedAt: 9_000_000 })
    await first.engine.close()
    first.db.close()
    const second = await rig({ db: openDb(tmp.dir), pendingMaxAgeMs: 1_000_000, now: () => 10_000_000 })
    assert.equal(second.engine.stats().pending.no_key, 1, 'the old one expired, the recent one waits')
    assert.equal((await history(second, p.id)).map((h) => h[2]), ['expired', 'no_key'])
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

junk('a learned pair retries only that person\'s votes; requests fold into one run', async () => {
  const mapping = fakeLidMapping()
  const r = await rig({ mapping })
  const p = await sentPoll(r.engine)
  // addressed by PN alone: a retry of these would ask the mapping for Mallory's LID
  for (let i = 0; i < 50; i++) await r.engine.ingestVote({ ...junkVote(mallory, p.id, i), participant: mallory.pn, participantAlt: undefined })
  // Alice's vote is addressed by PN and signed with her LID, which nobody knows yet.
  await r.engine.ingestVote({ ...vote(p, alice, { choose: ['Red'], ts: 1000, address: 'pn', signAs: 'lid' }) })
  assert.equal(r.engine.stats().pending.no_key, 51)
  mapping.add(alice.lid, alice.pn)
  mapping.calls.length = 0
  await Promise.all([
    r.engine.retryPending({ jids: [alice.lid, alice.pn] }),
    r.engine.retryPending({ jids: [alice.lid, alice.pn] }),
    r.engine.retryPending({ jids: [alice.lid, alice.pn] }),
  ])
  assert.is(r.engine.get(p.id)!.results.Red, 1)
  assert.equal(r.engine.stats().pending.no_key, 50)
  assert.ok(!mapping.calls.some((c) => c.includes(mallory.pn.split('@')[0]!)), 'the junk sender was not looked at')
  assert.is(mapping.calls.filter((c) => c === `lid:${alice.pn}`).length, 1, 'three requests, one retry')
})

junk('a login retries everything only when the own identity changed', async () => {
  const mapping = fakeLidMapping()
  const r = await rig({ mapping })
  const p = await sentPoll(r.engine)
  // addressed by PN alone: each retry asks the mapping for the LID
  await r.engine.ingestVote({ ...junkVote(mallory, p.id, 0), participant: mallory.pn, participantAlt: undefined })
  mapping.calls.length = 0
  await r.engine.onLogin()
  const first = mapping.calls.length
  assert.ok(first > 0, 'the first login after start retries')
  await r.engine.onLogin()
  await r.engine.onLogin()
  assert.is(mapping.calls.length, first, 'the same identity again: nothing new to try')
})

junk('a genuine vote is not held back by a retry of many pending votes', async () => {
  const r = await rig({ retryChunk: 50 })
  const p = await sentPoll(r.engine)
  const flood: Promise<void>[] = []
  for (let i = 0; i < 2000; i++) flood.push(r.engine.ingestVote(junkVote(voter(100 + (i % 20)), i % 2 ? p.id : `JUNK${i}`, i)))
  await Promise.all(flood)
  const retry = r.engine.retryPending()
  const t0 = performance.now()
  await r.engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 9000 }))
  const ms = performance.now() - t0
  assert.is(r.engine.get(p.id)!.results.Blue, 1)
  assert.ok(ms < 100, `journaled in ${ms.toFixed(1)} ms during the retry`)
  await retry
})

// ---

const full = suite('createVoteEngine: disk full')

full('a failed commit reports the real error once, keeps memory as it was and recovers by itself', async () => {
  const tmp = tempDir()
  const lines: Array<{ level: number; msg: string; err?: { message: string } }> = []
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)) } })
  try {
    const db = openDb(tmp.dir)
    const r = await rig({ db, log })
    const p = await sentPoll(r.engine)
    await r.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
    // SQLite's own "database or disk is full" (SQLITE_FULL), as a full disk gives it.
    const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count
    db.exec(`PRAGMA max_page_count = ${pages}`)
    const failed: unknown[] = []
    for (let i = 0; i < 30; i++) {
      await r.engine.ingestVote(vote(p, voter(200 + i), { choose: ['Blue'], ts: 2000 + i })).catch((err) => failed.push(err))
    }
    assert.ok(failed.length > 0, 'some commits failed')
    assert.match(String((failed[0] as Error).message), /full/, 'the real error, not "cannot rollback"')
    const errors = lines.filter((l) => l.level >= 50)
    assert.is(errors.length, 1, 'reported once')
    assert.match(errors[0]!.err!.message, /full/)
    assert.not.ok(r.health.ok(), '/health is 503 meanwhile')
    const shown = r.engine.get(p.id)!.results.Blue
    const journaled = (db.prepare("SELECT count(*) FROM vote_journal WHERE state = 'ok'").raw(true).get() as [number])[0]
    assert.is(shown + 1, journaled, 'memory shows exactly what committed')

    db.exec('PRAGMA max_page_count = 1073741823')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    assert.ok(r.health.ok(), 'the probe sees space again')
    // WhatsApp redelivers what was not acknowledged: all of it counts now.
    for (let i = 0; i < 30; i++) await r.engine.ingestVote(vote(p, voter(200 + i), { choose: ['Blue'], ts: 2000 + i }))
    assert.is(r.engine.get(p.id)!.results.Blue, 30)
    assert.equal(await r.engine.rebuild(p.id), { [p.id]: r.engine.get(p.id)! }, 'the tally equals the journal')
    assert.ok(lines.some((l) => l.msg === 'store writes work again'))
    await r.engine.close()
    db.close()
  } finally {
    tmp.remove()
  }
})

// ---

const index = suite('createPendingIndex')

index('keeps journal order when a retry leaves a row pending, and counts by reason', async () => {
  const ix = createPendingIndex({ perSender: 2, total: 10 })
  assert.equal(ix.add({ seq: 1, hash: 'a', pollId: 'P', reason: 'no_key', sender: ['x@lid'] }), [])
  assert.equal(ix.add({ seq: 2, hash: 'b', pollId: 'Q', reason: 'unknown_poll', sender: ['x@lid'] }), [])
  assert.equal(ix.add({ seq: 1, hash: 'a', pollId: 'P', reason: 'no_key', sender: ['x@lid'] }), [], 'an update, not a new row')
  assert.equal(ix.counts(), { unknown_poll: 1, no_key: 1 })
  const out = ix.add({ seq: 3, hash: 'c', pollId: 'P', reason: 'no_key', sender: ['x@lid'] })
  assert.equal(out.map((r) => r.seq), [1], 'the oldest of that sender')
  assert.equal(ix.waitingFor('Q'), [2])
  assert.equal(ix.noKeySeqs((s) => s.includes('x@lid')), [3])
})

function optionHex(text: string): string {
  return Buffer.from(optionHashBytes(text)).toString('hex')
}

copied.run()
junk.run()
full.run()
index.run()
