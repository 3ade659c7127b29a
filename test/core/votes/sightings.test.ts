import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createSightings } from '../../../core/votes/sightings.ts'
import { tieBreak } from '../../../core/votes/tie-break.ts'
import { supersedes } from '../../../core/votes/tally.ts'

/** payloadHash's form: 32 lowercase hex digits. */
const h = (n: number) => createHash('sha256').update(String(n)).digest('hex').slice(0, 32)

test('sightings: every hash added is found with its number, through many growths; others are not', () => {
  const s = createSightings(16)
  for (let i = 1; i <= 5000; i++) s.add(h(i), i * 3)
  for (let i = 1; i <= 5000; i++) assert.equal(s.get(h(i)), [i * 3], `hash ${i}`)
  for (let i = 5001; i <= 6000; i++) assert.equal(s.get(h(i)), [])
  assert.is(s.size(), 5000)
})

test('sightings: further senders of one hash follow the first, in order; dropping the first promotes the next', () => {
  const s = createSightings()
  s.add(h(1), 10)
  s.add(h(1), 20)
  s.add(h(1), 30)
  assert.equal(s.get(h(1)), [10, 20, 30])
  s.drop(h(1), 20)
  assert.equal(s.get(h(1)), [10, 30])
  s.drop(h(1), 10)
  assert.equal(s.get(h(1)), [30])
  s.drop(h(1), 99)
  assert.equal(s.get(h(1)), [30], 'a number it does not hold changes nothing')
  s.drop(h(1), 30)
  assert.equal(s.get(h(1)), [])
  assert.is(s.size(), 0)
})

test('sightings: a dropped slot is probed past and reused; growing drops it', () => {
  const s = createSightings(16)
  for (let i = 1; i <= 10; i++) s.add(h(i), i)
  for (let i = 1; i <= 10; i += 2) s.drop(h(i), i)
  for (let i = 1; i <= 10; i++) assert.equal(s.get(h(i)), i % 2 ? [] : [i])
  for (let i = 1; i <= 10; i += 2) s.add(h(i), i + 100)
  for (let i = 11; i <= 400; i++) s.add(h(i), i)
  for (let i = 1; i <= 10; i++) assert.equal(s.get(h(i)), [i % 2 ? i + 100 : i])
  for (let i = 11; i <= 400; i++) assert.equal(s.get(h(i)), [i])
  assert.is(s.size(), 400)
})

test('sightings: a hash of another form (upper case, longer, not hex) is kept exactly, apart from its hex look-alike', () => {
  const s = createSightings()
  const lower = h(7)
  s.add(lower, 1)
  s.add(lower.toUpperCase(), 2)
  s.add(`${lower}00`, 3)
  s.add('h1', 4)
  assert.equal([s.get(lower), s.get(lower.toUpperCase()), s.get(`${lower}00`), s.get('h1'), s.get('h2')], [[1], [2], [3], [4], []])
  s.drop('h1', 4)
  assert.equal(s.get('h1'), [])
  assert.throws(() => s.add(h(8), 0), /journal number/)
  s.clear()
  assert.equal([s.get(lower), s.size()], [[], 0])
})

test('sightings: a journal number past 2³² − 2 is kept beside the table, in order with the others', () => {
  const s = createSightings()
  s.add(h(1), 5e9)
  s.add(h(1), 7)
  s.add(h(2), 8)
  s.add(h(2), 6e9)
  assert.equal([s.get(h(1)), s.get(h(2))], [[5e9, 7], [8, 6e9]])
  s.drop(h(1), 5e9)
  s.drop(h(2), 8)
  assert.equal([s.get(h(1)), s.get(h(2))], [[7], [6e9]])
})

test('sightings: rows staged at start are found once the index is first used, as if added one by one', () => {
  const staged = createSightings(16)
  const added = createSightings(16)
  const rows: Array<[string, number]> = []
  for (let i = 1; i <= 3000; i++) rows.push([h(i), i])
  rows.push([h(5), 4001], [h(7), 4002], ['h1', 4003], [h(9), 5e9], [h(9), 4004])
  for (const [hash, seq] of rows) { staged.stage(hash, seq); added.add(hash, seq) }
  assert.is(staged.staged(), 3000 + 2, "the second senders' rows too; not what the table cannot hold")
  for (const hash of [h(5), h(7), h(9), h(1), h(3000), 'h1', h(3001)]) assert.equal(staged.get(hash), added.get(hash), hash)
  assert.is(staged.staged(), 0, 'indexed at the first use')
  assert.equal(staged.get(h(9)), [9, 5e9, 4004])
  staged.drop(h(5), 5)
  assert.equal(staged.get(h(5)), [4001])
  staged.add(h(3001), 9000)
  assert.equal(staged.get(h(3001)), [9000])
  staged.clear()
  staged.stage(h(1), 1)
  staged.clear()
  assert.equal([staged.get(h(1)), staged.staged()], [[], 0], 'clear drops what was staged')
})

test('sightings: hashes sharing their first 64 bits are each other\'s candidates, in order; a number is dropped by itself', () => {
  // The index keeps 64 bits: what it answers for a hash are candidates, checked by the caller.
  const twin = (n: number, tail: string) => h(n).slice(0, 16) + tail.repeat(16).slice(0, 16)
  const s = createSightings(16)
  const [a, b, c] = [twin(1, 'a'), twin(1, 'b'), twin(1, 'c')]
  s.add(a, 1)
  s.add(b, 2)
  s.add(a, 3)
  assert.equal([s.get(a), s.get(b), s.get(c)], [[1, 2, 3], [1, 2, 3], [1, 2, 3]])
  assert.equal(s.get(twin(2, 'a')), [], 'another prefix is not a candidate')
  s.drop(a, 99)
  assert.equal(s.get(a), [1, 2, 3], 'a number it does not hold changes nothing')
  s.drop(a, 1)
  assert.equal(s.get(b), [2, 3], 'the number goes, and the next candidate takes the slot')
  s.drop(b, 3)
  assert.equal(s.get(a), [2])
  s.drop(b, 2)
  assert.equal([s.get(a), s.size()], [[], 0])
  for (let i = 2; i <= 600; i++) s.add(h(i), i)
  s.add(c, 7000)
  for (let i = 2; i <= 600; i++) assert.equal(s.get(h(i)), [i], `hash ${i} after growth`)
  assert.equal(s.get(a), [7000])

  const staged = createSightings(16)
  staged.stage(a, 1)
  staged.stage(h(5), 2)
  staged.stage(b, 3)
  assert.equal([staged.get(b), staged.get(h(5))], [[1, 3], [2]], 'staged rows the same way')
})

test('tieBreak: the bytes of a hash order ballots as its hex digits do, and take half the characters', () => {
  for (let i = 0; i < 500; i++) {
    const a = h(i), b = h(i + 1000)
    assert.is(tieBreak(a) > tieBreak(b), a > b)
    assert.is(supersedes({ ts: 5, hash: tieBreak(a), sel: [] }, { ts: 5, hash: tieBreak(b), sel: [] }), a > b)
  }
  assert.is(tieBreak(h(1)).length, 16)
  assert.is(tieBreak('not-a-hash'), 'not-a-hash')
  assert.is(tieBreak(h(1).toUpperCase()), h(1).toUpperCase(), 'only the form payloadHash makes')
})

test.run()
