import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTally, pollView, replayStatuses, sameTally, supersedes } from '../../../core/votes/tally.ts'
import type { Ballot } from '../../../core/votes/tally.ts'

const b = (ts: number, sel: number[], hash = `h${ts}`): Ballot => ({ ts, hash, sel })
const shape = { question: 'Q', options: ['A', 'B', 'C'], hashes: ['ha', 'hb', 'hc'], chatId: 'c@g.us', timestamp: 7, selectableCount: 0 }

const order = suite('supersedes')

order('the newer sender timestamp wins; a tie goes to the greater payload hash', () => {
  assert.ok(supersedes(b(2, []), b(1, [])))
  assert.not.ok(supersedes(b(1, []), b(2, [])))
  assert.ok(supersedes(b(5, [], 'b'), b(5, [], 'a')))
  assert.not.ok(supersedes(b(5, [], 'a'), b(5, [], 'b')))
  assert.not.ok(supersedes(b(5, [], 'a'), b(5, [], 'a')), 'the same vote does not supersede itself')
})

order.run()

// ---

const apply = suite('Tally.apply')

apply('counts, replaces, retracts, and ignores older ballots', () => {
  const t = createTally(3)
  assert.equal(t.apply('x', b(1, [0, 2])), { counted: true, changed: true })
  assert.equal(t.apply('y', b(1, [2])), { counted: true, changed: true })
  assert.equal(t.counts, [1, 0, 2])
  assert.equal(t.apply('x', b(0, [1])), { counted: false, changed: false }, 'older: late')
  assert.equal(t.apply('x', b(3, [1])), { counted: true, changed: true })
  assert.equal(t.counts, [0, 1, 1])
  assert.equal(t.apply('x', b(4, [1])), { counted: true, changed: false }, 'same choice: nothing shows')
  assert.equal(t.apply('y', b(5, [])), { counted: true, changed: true })
  assert.equal(t.counts, [0, 1, 0])
  assert.equal(t.apply('y', b(2, [0])), { counted: false, changed: false }, 'a retraction still beats older votes')
  assert.equal(t.apply('z', b(9, [])), { counted: true, changed: false }, 'retracting nothing shows nothing')
})

apply('the final tally does not depend on arrival order', () => {
  const ballots: Array<[string, Ballot]> = [['x', b(1, [0])], ['x', b(3, [1])], ['x', b(2, [2])], ['y', b(2, [0, 1])], ['y', b(4, [])], ['z', b(1, [2])]]
  const want = createTally(3)
  for (const [v, bl] of ballots) want.apply(v, bl)
  const reversed = createTally(3)
  for (const [v, bl] of [...ballots].reverse()) reversed.apply(v, bl)
  assert.equal(reversed.counts, want.counts)
  assert.equal(want.counts, [0, 1, 1])
  assert.equal([...reversed.current.entries()].sort(), [...want.current.entries()].sort())
})

apply('Tally.merge keeps the newer ballot of the two keys of one person', () => {
  const t = createTally(3)
  t.apply('L', b(5, [0]))
  t.apply('P', b(3, [1]))
  assert.equal(t.merge('L', 'P'), { changed: true })
  assert.equal([...t.current.keys()], ['P'])
  assert.equal(t.current.get('P')!.sel, [0])
  assert.equal(t.counts, [1, 0, 0])

  const u = createTally(3)
  u.apply('L', b(1, [0]))
  u.apply('P', b(3, [1]))
  assert.equal(u.merge('L', 'P'), { changed: true }, 'the older LID vote disappears')
  assert.equal(u.counts, [0, 1, 0])
  assert.equal(u.merge('L', 'P'), { changed: false }, 'nothing left under the LID')

  const w = createTally(3)
  w.apply('L', b(7, [2]))
  assert.equal(w.merge('L', 'P'), { changed: true })
  assert.equal([...w.current.keys()], ['P'])
  assert.equal(w.counts, [0, 0, 1])
})

apply.run()

// ---

const marks = suite('Tally.mark')

marks('at(mark) reads back the counts and ballots of its moment, whatever changed since (merges too)', () => {
  const t = createTally(3)
  t.apply('x', b(1, [0]))
  t.apply('lid', b(1, [1]))
  const m1 = t.mark()
  assert.ok(t.isNow(m1))
  assert.is(t.mark(), m1, 'nothing changed: the same mark')
  const snap1 = () => pollView(shape, t.at(m1))
  const want1 = pollView(shape, { counts: [1, 1, 0], current: new Map([['x', b(1, [0])], ['lid', b(1, [1])]]) })
  t.apply('x', b(2, [2]))
  t.apply('y', b(2, [0]))
  assert.not.ok(t.isNow(m1))
  const m2 = t.mark()
  t.apply('x', b(3, []))
  t.merge('lid', 'pn')
  t.apply('y', b(3, [1]))
  const m3 = t.mark()
  assert.ok(sameTally(snap1(), want1), 'the first moment, after three later changes')
  assert.equal(pollView(shape, t.at(m2)).voters, { x: ['hc'], lid: ['hb'], y: ['ha'] })
  assert.equal(pollView(shape, t.at(m2)).results, { A: 1, B: 1, C: 1 })
  assert.equal(pollView(shape, t.at(m3)).voters, { pn: ['hb'], y: ['hb'] })
  assert.equal(t.at(m3).counts, [0, 2, 0])
  assert.is(t.at(m3).current, t.current, 'the latest moment is read live, not copied')
})

marks.run()

// ---

const view = suite('pollView')

view('lists every option, zero when unvoted; voters in option order; retractions left out', () => {
  const t = createTally(3)
  t.apply('x@s.whatsapp.net', b(1, [0, 2]))
  t.apply('y@lid', b(1, []))
  assert.equal(pollView(shape, t), {
    question: 'Q', options: ['A', 'B', 'C'], optionHashes: { ha: 'A', hb: 'B', hc: 'C' },
    results: { A: 1, B: 0, C: 1 }, voters: { 'x@s.whatsapp.net': ['ha', 'hc'] },
    chatId: 'c@g.us', timestamp: 7, selectableCount: 0,
  })
})

view('sameTally ignores key order but not counts or selections', () => {
  const t = createTally(3)
  t.apply('x', b(1, [0]))
  t.apply('y', b(1, [1]))
  const u = createTally(3)
  u.apply('y', b(1, [1]))
  u.apply('x', b(1, [0]))
  assert.ok(sameTally(pollView(shape, t), pollView(shape, u)))
  u.apply('x', b(2, [2]))
  assert.not.ok(sameTally(pollView(shape, t), pollView(shape, u)))
})

view.run()

// ---

const history = suite('replayStatuses')

history('counted until superseded; late when a newer one was already in; the rest by state', () => {
  const st = replayStatuses([
    { seq: 1, state: 'ok', voter: 'x', ballot: b(10, [0]) },
    { seq: 2, state: 'ok', voter: 'x', ballot: b(30, [1]) },
    { seq: 3, state: 'ok', voter: 'x', ballot: b(20, [2]) },
    { seq: 4, state: 'dup' },
    { seq: 5, state: 'pending' },
    { seq: 6, state: 'rejected' },
    { seq: 7, state: 'ok', voter: 'y', ballot: b(5, []) },
  ])
  assert.equal([...st], [[1, 'superseded'], [2, 'counted'], [3, 'late'], [4, 'duplicate'], [5, 'pending'], [6, 'rejected'], [7, 'counted']])
})

history.run()
