import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BallotTable, VoterIds } from '../../../core/votes/ballot-table.ts'
import { tieBreak } from '../../../core/votes/tie-break.ts'
import { selOfMask } from '../../../core/votes/state.ts'
import { supersedes, type Ballot } from '../../../core/votes/tally.ts'

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
}
const hex = (r: () => number) => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('')

const table = suite('BallotTable')

table('behaves as a Map of ballots under 20,000 random sets and deletes (order, reads, size)', () => {
  const r = rng(5)
  const sels = [[], [0], [1], [0, 2], [1, 2, 3]]
  const shared = sels.map((sel) => ({ sel }))
  const t = new BallotTable()
  const m = new Map<string, Ballot>()
  for (let n = 0; n < 20_000; n++) {
    const voter = `v${Math.floor(r() * 300)}`
    if (r() < 0.1) { assert.is(t.delete(voter), m.delete(voter)); continue }
    const c = shared[Math.floor(r() * shared.length)]!
    // Ties as the engine keeps them (16 one-byte characters), and anything else.
    const hash = r() < 0.8 ? tieBreak(hex(r)) : r() < 0.5 ? `other-${n}` : '\u0100'.repeat(16)
    // The shared selection arrays, and copies of them (a table keeps one per distinct choice).
    const b: Ballot = { ts: Math.floor(r() * 1e13), hash, sel: r() < 0.5 ? c.sel : [...c.sel] }
    t.set(voter, b)
    m.set(voter, b)
  }
  assert.is(t.size, m.size)
  const norm = (b: Ballot) => ({ ts: b.ts, hash: b.hash, sel: [...b.sel] })
  assert.equal([...t.keys()], [...m.keys()], 'voters in the order they first voted')
  assert.equal([...t].map(([v, b]) => [v, norm(b)]), [...m].map(([v, b]) => [v, norm(b)]))
  const seen: string[] = []
  t.forEach((b, v) => { seen.push(v); assert.equal(norm(b), norm(m.get(v)!)) })
  assert.equal(seen, [...m.keys()])
  for (const v of ['v1', 'v299', 'nobody']) {
    assert.is(t.has(v), m.has(v))
    assert.equal(t.get(v) && norm(t.get(v)!), m.get(v) && norm(m.get(v)!))
  }
})

table('beats(b, record) is supersedes(b, the ballot in it), whatever the ties', () => {
  const r = rng(9)
  const t = new BallotTable()
  const ties = () => (r() < 0.7 ? tieBreak(hex(r)) : r() < 0.5 ? `x${Math.floor(r() * 4)}` : '\u0101'.repeat(15) + String.fromCharCode(Math.floor(r() * 300)))
  for (let n = 0; n < 20_000; n++) {
    const a: Ballot = { ts: Math.floor(r() * 3), hash: ties(), sel: [] }
    const b: Ballot = { ts: Math.floor(r() * 3), hash: r() < 0.2 ? a.hash : ties(), sel: [0] }
    t.set('v', a)
    assert.is(t.beats(b, t.slot('v')!), supersedes(b, a), `${JSON.stringify(b)} over ${JSON.stringify(a)}`)
    assert.equal(t.sel(t.slot('v')!), [])
  }
})

table('tables sharing voter numbers keep their own ballots; 5,000 voters grow one table and its index', () => {
  const ids = new VoterIds()
  const a = new BallotTable(ids), b = new BallotTable(ids)
  for (let i = 0; i < 5000; i++) a.set(`v${i}`, { ts: i, hash: tieBreak(i.toString(16).padStart(32, '0')), sel: [i % 3] })
  b.set('v4999', { ts: 1, hash: 'h', sel: [] })
  b.set('only-b', { ts: 2, hash: 'h', sel: [] })
  for (let i = 0; i < 5000; i++) assert.is(a.get(`v${i}`)!.ts, i)
  assert.is(a.get('only-b'), undefined)
  assert.equal([...b.keys()], ['v4999', 'only-b'])
  assert.is(b.get('v4999')!.ts, 1)
  for (let i = 0; i < 5000; i += 2) a.delete(`v${i}`)
  assert.is(a.size, 2500)
  a.set('v0', { ts: 7, hash: 'h', sel: [1] })
  assert.equal([...a.keys()].slice(-2), ['v4999', 'v0'], 'deleted and set again: last, as in a Map')
  assert.is(a.get('v0')!.ts, 7)
})

table('a poll with many distinct choices (past the ones searched one by one) keeps each voter\'s own', () => {
  const t = new BallotTable()
  for (let v = 0; v < 200; v++) t.set(`v${v}`, { ts: v, hash: 'h', sel: [v % 50, 50 + (v % 7)] })
  for (let v = 0; v < 200; v++) assert.equal(t.get(`v${v}`)!.sel, [v % 50, 50 + (v % 7)])
  t.set('v0', { ts: 999, hash: 'h', sel: [1, 51] })
  assert.equal(t.get('v0')!.sel, [1, 51])
  assert.is(t.sel(t.slot('v1')!), t.sel(t.slot('v0')!), 'the same choice, one array')
})

table('selOfMask: the options a mask names, ascending, one shared array per choice', () => {
  assert.equal(selOfMask(0b1011, 4), [0, 1, 3])
  assert.equal(selOfMask(0, 4), [])
  assert.equal(selOfMask(0b1_0000_0001, 4), [0], 'bits past the options are not options')
  assert.is(selOfMask(0b101, 3), selOfMask(0b101, 7), 'the same array for every poll that chose the same')
  assert.equal(selOfMask(2 ** 30 + 1, 31), [0, 30])
  assert.equal(selOfMask(2 ** 13 + 2, 20), [1, 13], 'past the kept masks: made each time, the same content')
})

table.run()
