import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openDb } from '../../../store/sqlite/db.ts'
import { createEmitter } from '../../../contract/events.ts'
import {
  fakeLidMapping, OWN_LID, OWN_PN, optionHash, rig, sentPoll, tempDir, vote, voter,
} from './fixtures.ts'

const H = { Red: optionHash('Red'), Blue: optionHash('Blue'), Green: optionHash('Green') }
const alice = voter(1)
const bob = voter(2)

// --- polls

const polls = suite('createVoteEngine: polls')

polls('preparePoll commits the poll as sending before returning; markSent shows and announces it', async () => {
  const { engine, db, events } = await rig()
  const { id, secret } = await engine.preparePoll({ chatId: 'x@g.us', question: 'Q', options: ['A', 'B'], selectableCount: 1 })
  assert.match(id, /^3EB0[0-9A-F]{18}$/)
  assert.is(secret.length, 32)
  const row = db.prepare('SELECT status, secret, options, option_hashes FROM poll_record WHERE id = ?').get([id]) as Record<string, unknown>
  assert.is(row.status, 'sending')
  assert.equal(new Uint8Array(row.secret as Buffer), secret)
  assert.equal(JSON.parse(row.option_hashes as string), [optionHash('A'), optionHash('B')])
  assert.equal(engine.all(), {})
  assert.is(engine.get(id), undefined)
  assert.is(events.length, 0)

  assert.ok(await engine.markSent(id))
  assert.equal(engine.get(id), {
    question: 'Q', options: ['A', 'B'], optionHashes: { [optionHash('A')]: 'A', [optionHash('B')]: 'B' },
    results: { A: 0, B: 0 }, voters: {}, chatId: 'x@g.us', timestamp: engine.get(id)!.timestamp, selectableCount: 1,
  })
  assert.equal(events.map((e) => [e.event, e.id]), [['poll:new', id]])
  await engine.markSent(id)
  assert.is(events.length, 1, 'a second markSent announces nothing')
})

polls('a failed poll is kept with its reason and secret but not listed; a vote proves it went out', async () => {
  const { engine, events } = await rig()
  const { id, secret } = await engine.preparePoll({ chatId: 'x@g.us', question: 'Q', options: ['Red', 'Blue'], selectableCount: 0 })
  assert.ok(await engine.markFailed(id, 'rate limited'))
  assert.equal(engine.status(id), { status: 'failed', reason: 'rate limited', listed: false })
  assert.equal(engine.all(), {})
  assert.is(await engine.votes(id), undefined)
  assert.ok(engine.pollCreation(id), 'the secret is kept')

  await engine.ingestVote(vote({ id, secret, chatId: 'x@g.us' }, alice, { choose: ['Red'], ts: 1000 }))
  assert.equal(engine.status(id), { status: 'sent', listed: true })
  assert.equal(engine.get(id)!.results, { Red: 1, Blue: 0 })
  assert.equal(events.map((e) => e.event), ['poll:new'])
})

polls('markFailed does not hide a poll that already went out', async () => {
  const { engine } = await rig()
  const { id } = await sentPoll(engine)
  assert.not.ok(await engine.markFailed(id, 'late error'))
  assert.ok(engine.get(id))
})

polls('preparePoll refuses duplicate options', async () => {
  const { engine } = await rig()
  await engine.preparePoll({ chatId: 'x@g.us', question: 'Q', options: ['A', 'A'], selectableCount: 0 })
    .then(() => assert.unreachable('must refuse'), (err: Error) => assert.match(err.message, /unique/))
})

polls('allJson joins into JSON.stringify(all()); the revision moves exactly when what all() shows does', async () => {
  const { engine } = await rig()
  const text = () => [...engine.allJson()].join('')
  assert.is(text(), '{}')
  const r0 = engine.revision()
  const { id: id1, secret: s1 } = await engine.preparePoll({ chatId: 'x@g.us', question: 'Q "one"', options: ['Red', 'Blue'], selectableCount: 0 })
  assert.is(engine.revision(), r0, 'a poll being sent is not shown')
  await engine.markSent(id1)
  const r1 = engine.revision()
  assert.ok(r1 !== r0, 'shown now')
  const p2 = await sentPoll(engine)
  const r2 = engine.revision()
  assert.ok(r2 !== r1)
  const v = vote({ id: id1, secret: s1, chatId: 'x@g.us' }, alice, { choose: ['Red'], ts: 1000 })
  await engine.ingestVote(v)
  const r3 = engine.revision()
  assert.ok(r3 !== r2, 'a counted vote')
  await engine.ingestVote(v)
  assert.is(engine.revision(), r3, 'the same vote again changes nothing')
  await engine.ingestVote(vote({ id: id1, secret: s1, chatId: 'x@g.us' }, alice, { choose: ['Red'], ts: 2000 }))
  assert.is(engine.revision(), r3, 'a newer vote with the same choice shows nothing new')
  await engine.ingestVote(vote(p2, bob, { choose: ['Green', 'Red'], ts: 1000 }))
  assert.ok(engine.revision() !== r3)
  assert.is(text(), JSON.stringify(engine.all()))
  assert.equal(JSON.parse(text())[id1].voters, { [alice.pn]: [H.Red] })
})

polls.run()

// --- tally rules

const rules = suite('createVoteEngine: vote semantics')

rules('a newer vote replaces the older one', async () => {
  const { engine, events } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, msgId: 'V1' }))
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000, msgId: 'V2' }))
  const view = engine.get(p.id)!
  assert.equal(view.results, { Red: 0, Blue: 1, Green: 0 })
  assert.equal(view.voters, { [alice.pn]: [H.Blue] })
  assert.equal((await engine.votes(p.id))!.map((v) => [v.voter, v.selected, v.status]), [
    [alice.pn, ['Red'], 'superseded'],
    [alice.pn, ['Blue'], 'counted'],
  ])
  assert.is(events.filter((e) => e.event === 'poll:update').length, 2)
})

rules('a poll keeps its view object until a vote changes it (readers cache by identity)', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  const other = await sentPoll(engine)
  const first = engine.all()
  assert.ok(engine.all()[p.id] === first[p.id], 'unchanged: the same view')
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
  const second = engine.all()
  assert.ok(second[p.id] !== first[p.id], 'changed: a new view')
  assert.ok(second[other.id] === first[other.id], 'the other poll keeps its view')
  assert.equal(second[p.id]!.results, { Red: 1, Blue: 0, Green: 0 })
})

rules('an empty selection retracts: the voter disappears', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
  await engine.ingestVote(vote(p, bob, { choose: ['Red'], ts: 1100 }))
  await engine.ingestVote(vote(p, alice, { choose: [], ts: 2000 }))
  const view = engine.get(p.id)!
  assert.equal(view.results, { Red: 1, Blue: 0, Green: 0 })
  assert.equal(view.voters, { [bob.pn]: [H.Red] })
  assert.equal((await engine.votes(p.id))!.map((v) => v.status), ['superseded', 'counted', 'counted'])
})

rules('the same vote delivered twice counts once, shows as duplicate, and announces nothing', async () => {
  const { engine, events } = await rig()
  const p = await sentPoll(engine)
  const v = vote(p, alice, { choose: ['Green'], ts: 1000, msgId: 'V1' })
  await engine.ingestVote(v)
  const before = events.length
  await engine.ingestVote({ ...v, receivedAt: v.receivedAt + 50 })
  assert.is(events.length, before)
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 0, Green: 1 })
  assert.equal((await engine.votes(p.id))!.map((x) => [x.voter, x.selected, x.status]), [
    [alice.pn, ['Green'], 'counted'],
    [alice.pn, ['Green'], 'duplicate'],
  ])
  assert.is(engine.stats().duplicate, 1)
})

rules('a Signal-layer sighting then the upsert of the same vote is one row, enriched with the message id', async () => {
  const { engine, db } = await rig()
  const p = await sentPoll(engine)
  const v = vote(p, alice, { choose: ['Red'], ts: 1000, msgId: 'MSG1' })
  await engine.ingestVote({ ...v, msgId: undefined, participantAlt: undefined, source: 'signal' })
  await engine.ingestVote(v)
  const rows = db.prepare('SELECT msg_id, participant_alt, source, state, confirmed FROM vote_journal').all() as unknown[]
  assert.equal(rows.map((r) => ({ ...(r as object) })).map(({ _metadata, ...r }: any) => r), [
    { msg_id: 'MSG1', participant_alt: alice.pn, source: 'signal', state: 'ok', confirmed: 1 },
  ])
  assert.equal((await engine.votes(p.id))!.map((x) => x.status), ['counted'])
  // A real redelivery after that is a duplicate.
  await engine.ingestVote(v)
  assert.equal((await engine.votes(p.id))!.map((x) => x.status), ['counted', 'duplicate'])
  assert.equal(engine.get(p.id)!.results.Red, 1)
})

rules('both sightings in one group commit are still one row', async () => {
  const { engine, db } = await rig()
  const p = await sentPoll(engine)
  const v = vote(p, alice, { choose: ['Red'], ts: 1000, msgId: 'MSG1' })
  await Promise.all([engine.ingestVote({ ...v, msgId: undefined, source: 'signal' }), engine.ingestVote(v)])
  assert.equal((db.prepare('SELECT msg_id, confirmed FROM vote_journal').raw(true).all()), [['MSG1', 1]])
})

rules('an older vote arriving late never overwrites the newer one', async () => {
  const { engine, events } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 5000 }))
  const before = events.length
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 4000, receivedAt: 6000 }))
  assert.is(events.length, before, 'a late vote announces nothing')
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1, Green: 0 })
  assert.equal((await engine.votes(p.id))!.map((x) => [x.selected, x.status]), [[['Blue'], 'counted'], [['Red'], 'late']])
})

rules('multi-select counts every chosen option, voters listed in option order', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine, ['Red', 'Blue', 'Green'], 0)
  await engine.ingestVote(vote(p, alice, { choose: ['Green', 'Red'], ts: 1000 }))
  await engine.ingestVote(vote(p, bob, { choose: ['Green'], ts: 1000 }))
  const view = engine.get(p.id)!
  assert.equal(view.results, { Red: 1, Blue: 0, Green: 2 })
  assert.equal(view.voters, { [alice.pn]: [H.Red, H.Green], [bob.pn]: [H.Green] })
  assert.equal((await engine.votes(p.id))![0].selected, ['Red', 'Green'])
})

rules('more options than a single-choice poll allows is rejected, tally unchanged', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine, ['Red', 'Blue'], 1)
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 1000 }))
  await engine.ingestVote(vote(p, alice, { choose: ['Red', 'Blue'], ts: 2000 }))
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1 })
  assert.equal((await engine.votes(p.id))!.map((x) => [x.status, x.reason]), [['counted', undefined], ['rejected', 'too_many_options']])
})

rules('an offline (append) vote counts like a live one', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 1000, source: 'append' }))
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1, Green: 0 })
})

rules('a vote sent from this account counts under the own phone number', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, fromMe: true }))
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000, fromMe: true, signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [OWN_PN]: [H.Blue] })
})

rules('votes signed with the own LID as the poll creator decrypt too, and the pair is journaled', async () => {
  const { engine, db } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, creator: OWN_LID, signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [alice.pn]: [H.Red] })
  assert.equal(db.prepare('SELECT creator_jid, voter_jid, voter_key FROM vote_journal').raw(true).all(), [[OWN_LID, alice.lid, alice.pn]])
  assert.equal(db.prepare('SELECT creator_jid FROM poll_record').raw(true).all(), [[OWN_LID]], 'the working creator is remembered')
})

rules.run()

// --- persons: PN and LID

const persons = suite('createVoteEngine: one person across PN and LID')

persons('a PN-addressed vote then a LID-addressed one from the same person is one voter', async () => {
  const { engine } = await rig({ mapping: fakeLidMapping([[alice.lid, alice.pn]]) })
  const p = await sentPoll(engine, ['Red', 'Blue'], 1, alice.pn)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, address: 'pn' }))
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000, address: 'lid', signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [alice.pn]: [H.Blue] })
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1 })
})

persons('a PN-addressed vote that only decrypts with the LID is found through the mapping', async () => {
  const mapping = fakeLidMapping([[alice.lid, alice.pn]])
  const { engine, db } = await rig({ mapping })
  const p = await sentPoll(engine, ['Red', 'Blue'], 1, alice.pn)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, address: 'pn', signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [alice.pn]: [H.Red] })
  assert.equal(mapping.calls, [`lid:${alice.pn}`])
  assert.equal(db.prepare('SELECT voter_jid, voter_key FROM vote_journal').raw(true).all(), [[alice.lid, alice.pn]])
})

persons('a vote that cannot be decrypted yet stays pending until retryPending finds the mapping', async () => {
  const mapping = fakeLidMapping()
  const { engine, events } = await rig({ mapping })
  const p = await sentPoll(engine, ['Red', 'Blue'], 1, alice.pn)
  events.length = 0
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 1000, address: 'pn', signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 0 })
  assert.equal((await engine.votes(p.id))!.map((x) => [x.voter, x.status, x.reason]), [[alice.pn, 'pending', 'no_key']])
  assert.equal(engine.stats().pending, { unknown_poll: 0, no_key: 1 })
  assert.is(events.length, 0)

  await engine.retryPending()
  assert.equal(engine.stats().pending.no_key, 1, 'still unknown: still pending, never dropped')

  mapping.add(alice.lid, alice.pn)
  await engine.retryPending()
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1 })
  assert.equal((await engine.votes(p.id))!.map((x) => x.status), ['counted'])
  assert.equal(engine.stats().pending.no_key, 0)
  assert.equal(events.map((e) => [e.event, e.poll.results.Blue]), [['poll:update', 1]])
})

persons('a person first counted under a LID merges with their PN once the mapping is learned', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000, address: 'lid', signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [alice.lid]: [H.Red] })
  // A later vote of the same person carries both JIDs: the two are one voter, the newer vote wins.
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000, address: 'lid+pn', signAs: 'lid' }))
  assert.equal(engine.get(p.id)!.voters, { [alice.pn]: [H.Blue] })
  assert.equal(engine.get(p.id)!.results, { Red: 0, Blue: 1, Green: 0 })
})

persons('a merge found by retryPending recounts the affected polls and survives a rebuild', async () => {
  const mapping = fakeLidMapping()
  const { engine, events } = await rig({ mapping })
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 3000, address: 'lid', signAs: 'lid' }))
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 1000, address: 'pn' }))
  assert.equal(engine.get(p.id)!.results, { Red: 1, Blue: 1, Green: 0 }, 'two persons while unmapped')
  events.length = 0
  mapping.add(alice.lid, alice.pn)
  await engine.retryPending()
  assert.equal(engine.get(p.id)!.voters, { [alice.pn]: [H.Red] })
  assert.equal(engine.get(p.id)!.results, { Red: 1, Blue: 0, Green: 0 })
  assert.is(events.length, 1)
  assert.equal(await engine.rebuild(), engine.all())
  assert.equal(engine.get(p.id)!.results, { Red: 1, Blue: 0, Green: 0 })
})

persons.run()

// --- pending, unknown polls, restart

const life = suite('createVoteEngine: pending votes and restarts')

life('a vote for an unknown poll is kept pending and counted when the poll is recorded', async () => {
  const { engine, events } = await rig()
  const secret = new Uint8Array(32).fill(7)
  const p = { id: '3EB0AAAAAAAAAAAAAAAAAA', secret, chatId: 'g@g.us' }
  await engine.ingestVote(vote(p, alice, { choose: ['Yes'], ts: 1000 }))
  assert.equal(engine.stats().pending, { unknown_poll: 1, no_key: 0 })
  await engine.retryPending()
  assert.equal(engine.stats().pending.unknown_poll, 1)

  assert.ok(await engine.recordPollCreation({ ...p, question: 'Go?', options: ['Yes', 'No'], selectableCount: 1, timestamp: 500 }))
  assert.equal(engine.get(p.id)!.results, { Yes: 1, No: 0 })
  assert.equal(events.map((e) => [e.event, e.poll.results.Yes]), [['poll:new', 1]])
  assert.equal(engine.stats().pending.unknown_poll, 0)
  assert.not.ok(await engine.recordPollCreation({ ...p, question: 'Go?', options: ['Yes', 'No'], selectableCount: 1, timestamp: 500 }), 'idempotent')
  assert.is(events.length, 1)
})

life('a vote for a poll sent before a restart decrypts after it; the tally is reloaded', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const p = await sentPoll(first.engine)
    const unsent = await first.engine.preparePoll({ chatId: 'g@g.us', question: 'Crash?', options: ['A', 'B'], selectableCount: 1 })
    await first.engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
    await first.engine.ingestVote(vote(p, bob, { choose: ['Blue'], ts: 1000, address: 'lid', signAs: 'lid' }))
    await first.engine.close()
    first.db.close()

    const second = await rig({ db: openDb(tmp.dir) })
    assert.equal(second.engine.get(p.id)!.voters, { [alice.pn]: [H.Red], [bob.lid]: [H.Blue] })
    assert.ok(second.engine.get(unsent.id), 'a poll caught mid-send may have gone out: listed')
    await second.engine.ingestVote(vote(p, alice, { choose: ['Green'], ts: 2000 }))
    await second.engine.ingestVote(vote({ ...unsent, chatId: 'g@g.us' }, bob, { choose: ['B'], ts: 2000 }))
    assert.equal(second.engine.get(p.id)!.results, { Red: 0, Blue: 1, Green: 1 })
    assert.equal(second.engine.get(unsent.id)!.results, { A: 0, B: 1 })
    assert.equal(await second.engine.rebuild(), second.engine.all())
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

life('a pending vote survives a restart and is resolved after it', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const p = await sentPoll(first.engine, ['Red', 'Blue'], 1, alice.pn)
    await first.engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 1000, address: 'pn', signAs: 'lid' }))
    await first.engine.close()
    first.db.close()

    const mapping = fakeLidMapping()
    const second = await rig({ db: openDb(tmp.dir), mapping })
    assert.equal(second.engine.stats().pending, { unknown_poll: 0, no_key: 1 })
    mapping.add(alice.lid, alice.pn)
    await second.engine.retryPending()
    assert.equal(second.engine.get(p.id)!.voters, { [alice.pn]: [H.Blue] })
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

life('malformed votes are rejected with a reason, never change a tally, never throw', async () => {
  const { engine, events } = await rig()
  const p = await sentPoll(engine, ['Red', 'Blue'], 0)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 }))
  events.length = 0
  const good = vote(p, bob, { choose: ['Blue'], ts: 2000 })
  await engine.ingestVote({ ...good, encIv: good.encIv.subarray(0, 8) })
  await engine.ingestVote({ ...vote(p, bob, { choose: ['Blue'], ts: 2001 }), encPayload: new Uint8Array(10) })
  await engine.ingestVote(vote(p, bob, { choose: [new Uint8Array(32).fill(1)], ts: 2002 }))
  await engine.ingestVote(vote(p, alice, { choose: ['Red', new Uint8Array(32).fill(2)], ts: 2003 }))
  await engine.ingestVote({ pollId: p.id } as never)
  assert.equal(engine.get(p.id)!.results, { Red: 1, Blue: 0 })
  assert.is(events.length, 0)
  assert.equal((await engine.votes(p.id))!.map((x) => [x.status, x.reason]), [
    ['counted', undefined],
    ['rejected', 'bad_iv'],
    ['rejected', 'truncated'],
    ['rejected', 'unknown_option'],
    ['rejected', 'unknown_option'],
    ['rejected', 'bad_iv'],
  ])
  assert.is(engine.stats().rejected, 5)
})

life('ingestVote after close rejects', async () => {
  const { engine } = await rig()
  const p = await sentPoll(engine)
  await engine.close()
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1 })).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /closed/))
})

life.run()

// --- events and group commit

const events = suite('createVoteEngine: events and group commit')

events('concurrent votes share one transaction and one poll:update per poll, announced after commit', async () => {
  const { engine, db, emitter, events: seen } = await rig({ batchDelayMs: 5 })
  const a = await sentPoll(engine, ['Red', 'Blue'])
  const b = await sentPoll(engine, ['Red', 'Blue'])
  seen.length = 0
  const journaledAtEvent: number[] = []
  emitter.on('poll:update', () => {
    journaledAtEvent.push((db.prepare('SELECT count(*) AS n FROM vote_journal').get() as { n: number }).n)
  })
  const vs = []
  for (let i = 0; i < 200; i++) vs.push(vote(i % 2 ? a : b, voter(100 + i), { choose: [i % 3 ? 'Red' : 'Blue'], ts: 1000 + i }))
  await Promise.all(vs.map((v) => engine.ingestVote(v)))
  assert.equal(seen.map((e) => e.event), ['poll:update', 'poll:update'])
  assert.equal(journaledAtEvent, [200, 200])
  assert.is(Object.keys(engine.get(a.id)!.voters).length, 100)
  assert.equal(engine.get(a.id)!.results, { Red: 67, Blue: 33 })
})

events('key writes of a message without a vote (commitKeys) join the group commit of the votes around them', async () => {
  const { engine, db } = await rig({ keys: true })
  const p = await sentPoll(engine, ['Red', 'Blue'])
  const journaled = () => (db.prepare('SELECT count(*) AS n FROM vote_journal').get() as { n: number }).n
  const seen: Array<{ votes: number; inTransaction: boolean }> = []
  const keys = (id: string) => ({
    take() {
      seen.push({ votes: journaled(), inTransaction: db.inTransaction })
      return [{ type: 'session', id, json: '"x"' }]
    },
  })
  await Promise.all([
    engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1000 })),
    engine.commitKeys(keys('a.0')),
    engine.ingestVote(vote(p, bob, { choose: ['Blue'], ts: 1000 })),
  ])
  assert.equal(seen, [{ votes: 2, inTransaction: true }], 'taken once, inside the transaction that wrote both votes')
  assert.equal(db.prepare("SELECT id FROM auth_keys WHERE type = 'session'").all(), [{ id: 'a.0' }])
  await engine.commitKeys(keys('b.0'))
  assert.is(seen.length, 2, 'alone, it commits too')
  await engine.close()
  await engine.commitKeys(keys('c.0')).then(() => assert.unreachable('closed'), (err: Error) => assert.match(err.message, 'closed'))
})

events('20,000 votes in flight commit in a few group commits, each poll announced once per batch', async () => {
  const tmp = tempDir()
  try {
    const { engine, db, events: seen } = await rig({ db: openDb(tmp.dir) })
    const a = await sentPoll(engine, ['Red', 'Blue'])
    const b = await sentPoll(engine, ['Red', 'Blue'])
    seen.length = 0
    const vs = []
    for (let i = 0; i < 20_000; i++) vs.push(vote(i % 2 ? a : b, voter(1000 + i), { choose: [i % 4 ? 'Red' : 'Blue'], ts: 1000 + i }))
    await Promise.all(vs.map((v) => engine.ingestVote(v)))
    assert.is((db.prepare('SELECT count(*) AS n FROM vote_journal').get() as { n: number }).n, 20_000)
    assert.equal(engine.get(a.id)!.results, { Red: 10_000, Blue: 0 })
    assert.equal(engine.get(b.id)!.results, { Red: 5_000, Blue: 5_000 })
    const perPoll = seen.filter((e) => e.id === a.id).length
    assert.ok(perPoll >= 1 && perPoll <= 4, `${perPoll} updates for 10,000 votes in batches of at most 5,000`)
    await engine.close()
    db.close()
  } finally {
    tmp.remove()
  }
})

events('each state change announces once; a replacement with the same choice and a duplicate announce nothing', async () => {
  const { engine, events: seen } = await rig()
  const p = await sentPoll(engine)
  seen.length = 0
  const v = vote(p, alice, { choose: ['Red'], ts: 1000 })
  await engine.ingestVote(v)
  await engine.ingestVote(v)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1500 }))
  await engine.ingestVote(vote(p, alice, { choose: ['Blue'], ts: 2000 }))
  await engine.ingestVote(vote(p, bob, { choose: [], ts: 2000 }))
  assert.equal(seen.map((e) => [e.event, e.poll.results]), [
    ['poll:update', { Red: 1, Blue: 0, Green: 0 }],
    ['poll:update', { Red: 0, Blue: 1, Green: 0 }],
  ])
})

events('a listener that throws does not lose the vote', async () => {
  const emitter = createEmitter()
  emitter.on('poll:update', () => { throw new Error('listener bug') })
  const { engine } = await rig({ emitter })
  const p = await sentPoll(engine)
  await engine.ingestVote(vote(p, alice, { choose: ['Red'], ts: 1 }))
  assert.is(engine.get(p.id)!.results.Red, 1)
})

events.run()
