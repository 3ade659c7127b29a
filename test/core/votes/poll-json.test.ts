import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isIndexLike, pollJson } from '../../../core/votes/poll-json.ts'
import { createTally, pollView, type Ballot, type PollShape } from '../../../core/votes/tally.ts'

/** A small deterministic generator: the same cases on every run. */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
}
const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!

// Texts an object or JSON treats specially: index-like keys, duplicates, escapes, lone surrogates.
const TEXTS = ['Red', 'Blue', '10', '2', '0', '01', '4294967295', '4294967294', 'a"b', 'back\\slash', 'line\nbreak',
  'tab\t', '\u0000nul', '💡', '\ud800', 'ünï', '__proto__', 'constructor', '', ' ']
const VOTERS = ['15551110001@s.whatsapp.net', '77@lid', 'we"ird@lid', '\u2028@s.whatsapp.net', '\udfff@lid', 'toString', 'x']

const json = suite('pollJson')

json('writes what JSON.stringify of the view writes, for 3,000 random polls and tallies', () => {
  const r = rng(11)
  for (let n = 0; n < 3000; n++) {
    const count = 1 + Math.floor(r() * 5)
    const options = Array.from({ length: count }, () => pick(r, TEXTS))
    const hashes = options.map((o, i) => (r() < 0.1 ? 'same' : `h${i}${o.length}`))
    const p: PollShape = { question: pick(r, TEXTS), options, hashes, chatId: pick(r, VOTERS), timestamp: Math.floor(r() * 2e12), selectableCount: r() < 0.5 ? 1 : 0 }
    const t = createTally(count)
    const voters = [...VOTERS, ...(r() < 0.1 ? ['12345'] : []), ...(r() < 0.05 ? ['__proto__'] : [])]
    for (let v = 0; v < 12; v++) {
      const sel = [...new Set(Array.from({ length: Math.floor(r() * (count + 1)) }, () => Math.floor(r() * count)))].sort((a, b) => a - b)
      const b: Ballot = { ts: v, hash: `x${v}`, sel }
      t.apply(pick(r, voters), b)
    }
    assert.is(pollJson(p, t), JSON.stringify(pollView(p, t)), `case ${n}`)
    const m = t.mark()
    t.apply(pick(r, voters), { ts: 99, hash: 'z', sel: [0] })
    assert.is(pollJson(p, t.at(m)), JSON.stringify(pollView(p, t.at(m))), `case ${n}, at a mark`)
  }
})

json('index-like keys are told apart from the rest', () => {
  for (const k of ['0', '7', '123', '4294967294']) assert.ok(isIndexLike(k), k)
  for (const k of ['', '01', '-1', '1.5', '4294967295', '12a', '15551110001@s.whatsapp.net', ' 1']) assert.not.ok(isIndexLike(k), k)
})

json.run()
