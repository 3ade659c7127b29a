import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createCampaignTally } from '../../../core/campaigns/tally.ts'
import { createPacing } from '../../../core/campaigns/pacing.ts'
import type { Ballot } from '../../../core/votes/tally.ts'

const b = (ts: number, ...sel: number[]): Ballot => ({ ts, hash: `h${ts}`, sel })

const tally = suite('campaign tally: each person once')

tally('a person in two chats counts once, with their newest standing selection by sender time', () => {
  const t = createCampaignTally(2)
  assert.ok(t.set('P1', 'alice', b(10, 0)))
  assert.equal([...t.counts], [1, 0])
  assert.ok(t.set('P2', 'alice', b(20, 1)))
  assert.equal([...t.counts], [0, 1], 'newer vote in the other chat wins')
  assert.not.ok(t.set('P1', 'alice', b(10, 0)), 'the same ballot again changes nothing')
  assert.ok(t.set('P1', 'alice', b(30, 0)))
  assert.equal([...t.counts], [1, 0])
  assert.is(t.voters(), 1)
  t.set('P1', 'bob', b(5, 1))
  assert.equal([...t.counts], [1, 1])
  assert.is(t.voters(), 2)
})

tally('a retraction removes only that chat: the person falls back to the other chat, or to nothing', () => {
  const t = createCampaignTally(2)
  t.set('G1', 'p', b(1, 0))
  t.set('G2', 'p', b(2, 1))
  assert.equal([...t.counts], [0, 1])
  assert.ok(t.set('G2', 'p', b(3)), 'retracted in G2')
  assert.equal([...t.counts], [1, 0], 'counts as A, what G1 still shows')
  assert.equal([...t.counted()].map(([v, c]) => [v, c.pollId]), [['p', 'G1']])
  assert.ok(t.set('G1', 'p', b(4)))
  assert.equal([...t.counts], [0, 0])
  assert.is(t.voters(), 0)
  assert.not.ok(t.set('G1', 'q', b(5)), 'a first vote that retracts shows nothing')
})

tally('a LID merged into its phone number: the LID key goes, the PN key holds the newest ballot', () => {
  const t = createCampaignTally(3)
  t.set('G1', '5@lid', b(10, 2))
  t.set('D1', '7@s.whatsapp.net', b(5, 0))
  assert.equal([...t.counts], [1, 0, 1], 'two keys before the mapping is known')
  // What the engine reports on a merge: nothing under the LID, the newer ballot under the PN.
  t.set('G1', '5@lid', undefined)
  t.set('G1', '7@s.whatsapp.net', b(10, 2))
  assert.equal([...t.counts], [0, 0, 1])
  assert.is(t.voters(), 1)
})

tally('ties on sender time go to the greater payload hash, as in a poll', () => {
  const t = createCampaignTally(2)
  t.set('A', 'p', { ts: 1, hash: 'b', sel: [0] })
  t.set('B', 'p', { ts: 1, hash: 'a', sel: [1] })
  assert.equal([...t.counts], [1, 0])
})

tally.run()

const pacing = suite('campaign pacing')

pacing('a random pause within the delay after each send', () => {
  const p = createPacing({ maxPerMinute: 100, random: () => 0.5 })
  assert.is(p.wait(1000), 0)
  p.sent(1000, { min: 2000, max: 4000 })
  assert.is(p.wait(1000), 3000)
  assert.is(p.wait(3999), 1)
  assert.is(p.wait(4000), 0)
  const low = createPacing({ maxPerMinute: 100, random: () => 0 })
  low.sent(0, { min: 2000, max: 4000 })
  assert.is(low.wait(0), 2000)
  const high = createPacing({ maxPerMinute: 100, random: () => 0.9999999 })
  high.sent(0, { min: 2000, max: 4000 })
  assert.is(high.wait(0), 4000)
})

pacing('at most maxPerMinute sends in any 60 s', () => {
  const p = createPacing({ maxPerMinute: 3, random: () => 0 })
  for (const at of [0, 10, 20]) p.sent(at, { min: 0, max: 0 })
  assert.is(p.wait(30), 60_000 - 30, 'the 4th waits for the 1st to leave the window')
  assert.is(p.wait(60_000), 0)
  p.sent(60_000, { min: 0, max: 0 })
  assert.is(p.wait(60_001), 10 + 60_000 - 60_001)
})

pacing.run()
