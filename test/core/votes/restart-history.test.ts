import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openDb } from '../../../store/sqlite/db.ts'
import { payloadHash } from '../../../core/votes/crypto.ts'
import { rig, sentPoll, tempDir, vote, voter } from './fixtures.ts'

const H = { Red: 'Red', Blue: 'Blue' }

test('after a restart over a long interleaved journal: a vote redelivered long after is a duplicate, each poll\'s history is its own rows', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const a = await sentPoll(first.engine, ['Red', 'Blue'])
    const b = await sentPoll(first.engine, ['Red', 'Blue'])
    const early = vote(a, voter(0), { choose: ['Red'], ts: 1000, msgId: 'EARLY' })
    await first.engine.ingestVote(early)
    // Votes of both polls interleave in the journal, so each poll's span holds the other's rows.
    for (let i = 1; i <= 60; i++) {
      await first.engine.ingestVote(vote(i % 2 ? b : a, voter(i), { choose: [i % 3 ? 'Red' : 'Blue'], ts: 1000 + i }))
    }
    await first.engine.ingestVote(vote(b, voter(99), { choose: ['Blue'], ts: 5000 }))
    const shown = first.engine.all()
    await first.engine.close()
    first.db.close()

    const second = await rig({ db: openDb(tmp.dir) })
    assert.equal(second.engine.all(), shown, 'the same tallies after the restart')
    await second.engine.ingestVote({ ...early, receivedAt: early.receivedAt + 86_400_000 })
    assert.is(second.engine.stats().duplicate, 1, 'the early vote, delivered again a day later, is recognised')
    assert.equal(second.engine.get(a.id)!.results, shown[a.id]!.results, 'and not counted again')
    const histA = (await second.engine.votes(a.id))!
    const histB = (await second.engine.votes(b.id))!
    assert.is(histA.length, 1 + 30 + 1)
    assert.is(histB.length, 30 + 1)
    assert.equal(histA.at(-1)!.status, 'duplicate')
    assert.equal(histA.at(-1)!.selected, [H.Red])
    assert.ok(histB.every((v) => v.voter !== voter(0).pn), 'nothing of poll A in poll B\'s history')
    assert.equal(await second.engine.rebuild(), second.engine.all(), 'a rebuild over the spans gives the same')
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

test('a journaled vote whose hash shares its first 64 bits with a new vote\'s is not taken for that vote (the index keeps 64 bits, the row is compared)', async () => {
  const tmp = tempDir()
  try {
    const first = await rig({ db: openDb(tmp.dir) })
    const a = await sentPoll(first.engine, ['Red', 'Blue'])
    const earlier = vote(a, voter(1), { choose: ['Red'], ts: 1000 })
    const later = vote(a, voter(1), { choose: ['Blue'], ts: 2000 })
    await first.engine.ingestVote(earlier)
    await first.engine.close()
    first.db.close()
    // Two payloads that share 64 bits are about one in 3·10⁷ journals of a million votes: made
    // here by giving the stored row a hash with the later vote's first 16 digits.
    const laterHash = payloadHash(a.id, later.encIv, later.encPayload)
    const twin = laterHash.slice(0, 16) + [...laterHash.slice(16)].map((d) => (d === 'f' ? '0' : 'f')).join('')
    const db = openDb(tmp.dir)
    assert.is(db.prepare('UPDATE vote_journal SET payload_hash = ? WHERE poll_id = ?').run([twin, a.id]).changes, 1)
    db.close()

    const second = await rig({ db: openDb(tmp.dir) })
    assert.equal(second.engine.get(a.id)!.results, { Red: 1, Blue: 0 })
    await second.engine.ingestVote(later)
    assert.is(second.engine.stats().duplicate, 0, 'the same sender, the same 64 bits, another payload: not a duplicate')
    assert.equal(second.engine.get(a.id)!.results, { Red: 0, Blue: 1 }, 'the later vote counts')
    await second.engine.ingestVote({ ...later, receivedAt: later.receivedAt + 1 })
    assert.is(second.engine.stats().duplicate, 1, 'and it, delivered again, is a duplicate of itself')
    await second.engine.close()
    second.db.close()
  } finally {
    tmp.remove()
  }
})

test.run()
