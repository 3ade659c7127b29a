import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openDb } from '../../../store/sqlite/db.ts'
import { optionHashBytes } from '../../../core/votes/crypto.ts'
import { rig, sentPoll, tempDir, vote, voter, type Rig } from './fixtures.ts'

/**
 * Webhook events are written by the vote engine in the commit of what they report (issue #13):
 * one poll.vote per counted change of a voter's selection, poll.vote.rejected per rejected vote,
 * poll.sent when a poll goes out — and nothing at all while no endpoint listens.
 */

const alice = voter(1)
const bob = voter(2)

/** The events written so far, oldest first, as their bodies (the outbox's batches fanned out, and its poll.vote records rendered into the rows, as before a purge). */
async function written(r: Rig): Promise<Array<{ type: string; data: Record<string, any> }>> {
  r.outbox!.expand()
  return (r.db.prepare('SELECT body FROM outbox_event ORDER BY seq').raw(true).all() as Array<[string]>).map(([b]) => JSON.parse(b))
}

async function withEndpoint(opts: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  const r = await rig({ outbox: true, ...opts })
  await r.outbox!.addEndpoint({ id: 'ep_1', url: 'http://127.0.0.1:9/hook', events: null, account: null, source: 'api', secret: 'whsec_x' })
  return r
}

const events = suite('createVoteEngine: webhook events')

events('a vote, a change, a repeat, a late vote and a retraction: one poll.vote per change of selection', async () => {
  const r = await withEndpoint()
  const p = await sentPoll(r.engine)
  await r.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
  await r.engine.ingestVote(vote(p, alice, { choose: ['Blue', 'Green'], ts: 2000 }))
  await r.engine.ingestVote(vote(p, alice, { choose: ['Green', 'Blue'], ts: 3000 }))
  await r.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1500 }))
  await r.engine.ingestVote(vote(p, alice, { choose: [], ts: 4000 }))
  const votes = (await written(r)).filter((e) => e.type === 'poll.vote').map((e) => e.data)
  assert.equal(votes.map((d) => [d.selected, d.previous]), [
    [['Red'], null],
    [['Blue', 'Green'], ['Red']],
    [[], ['Blue', 'Green']],
  ], 'the same selection again and the older vote are no events')
  assert.equal(votes[1], {
    account: 'default', pollMsgId: p.id, voter: alice.pn, selected: ['Blue', 'Green'], previous: ['Red'],
    senderTimestampMs: 2000, results: { Red: 0, Blue: 1, Green: 1 }, question: 'Colour?',
  })
  assert.equal(votes[2]!.results, { Red: 0, Blue: 0, Green: 0 })
})

events('several voters in one batch: each event carries the results right after its own vote', async () => {
  const r = await withEndpoint({ batchDelayMs: 50 })
  const p = await sentPoll(r.engine)
  await Promise.all([
    r.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 })),
    r.engine.ingestVote(vote(p, bob, { choose: ['Red'], ts: 1000 })),
    r.engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000 })),
  ])
  assert.equal((await written(r)).filter((e) => e.type === 'poll.vote').map((e) => [e.data.voter, e.data.results]), [
    [alice.pn, { Red: 1, Blue: 0, Green: 0 }],
    [bob.pn, { Red: 2, Blue: 0, Green: 0 }],
    [alice.pn, { Red: 1, Blue: 1, Green: 0 }],
  ])
})

events('poll.sent when the poll goes out; poll.vote.rejected with the reason', async () => {
  const r = await withEndpoint()
  const p = await sentPoll(r.engine, ['Yes', 'No'], 1)
  await r.engine.ingestVote(vote(p, alice, { choose: ['Yes', 'No'], ts: 1000 }))
  await r.engine.ingestVote(vote(p, bob, { choose: [optionHashBytes('Maybe')], ts: 1000 }))
  const all = (await written(r))
  assert.equal(all.map((e) => e.type), ['poll.sent', 'poll.vote.rejected', 'poll.vote.rejected'])
  assert.equal(all[0]!.data.poll.options, ['Yes', 'No'])
  assert.equal(all.slice(1).map((e) => [e.data.voter, e.data.reason]), [[alice.pn, 'too_many_options'], [bob.pn, 'unknown_option']])
})

events('nobody listening: no event is built or written', async () => {
  const r = await rig({ outbox: true })
  const p = await sentPoll(r.engine)
  await r.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
  assert.equal(r.db.prepare('SELECT (SELECT count(*) FROM outbox_event) + (SELECT count(*) FROM outbox_batch)').raw(true).get(), [0])
})

events('a commit that fails writes no event; the redelivered vote writes exactly one', async () => {
  const tmp = tempDir()
  try {
    const db = openDb(tmp.dir)
    const r = await withEndpoint({ db })
    const p = await sentPoll(r.engine)
    const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count
    db.exec(`PRAGMA max_page_count = ${pages}`)
    const failed: unknown[] = []
    for (let i = 0; i < 20; i++) await r.engine.ingestVote(vote(p, voter(10 + i), { choose: ['Red'], ts: 1000 + i })).catch((e) => failed.push(e))
    assert.ok(failed.length > 0)
    const journaled = (db.prepare("SELECT count(*) FROM vote_journal WHERE state = 'ok'").raw(true).get() as [number])[0]
    // Space first: the fan-out renders the committed records into bodies, which needs room.
    db.exec('PRAGMA max_page_count = 1073741823')
    assert.is((await written(r)).filter((e) => e.type === 'poll.vote').length, journaled, 'an event for each committed vote, none for the others')
    for (let i = 0; i < 20; i++) await r.engine.ingestVote(vote(p, voter(10 + i), { choose: ['Red'], ts: 1000 + i }))
    const ids = (await written(r)).filter((e) => e.type === 'poll.vote').map((e) => e.data.voter)
    assert.is(ids.length, 20)
    assert.is(new Set(ids).size, 20, 'one event per voter')
    await r.engine.close()
    db.close()
  } finally {
    tmp.remove()
  }
})

events.run()
