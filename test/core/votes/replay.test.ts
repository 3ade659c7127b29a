import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PollView } from '../../../contract/polls.ts'
import type { RawVote } from '../../../store/ports.ts'
import { optionHash, payloadHash } from '../../../core/votes/crypto.ts'
import { fakeLidMapping, OWN_PN, rig, vote, voter } from './fixtures.ts'
import type { Voter, VoteOpts } from './fixtures.ts'

/** mulberry32: a small seeded PRNG, so every run shuffles the same way. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(list: T[], rnd: () => number): T[] {
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

const POLLS = [
  { id: '3EB0REPLAY000000000000', options: ['Red', 'Blue', 'Green', 'Gold'], selectableCount: 0 },
  { id: '3EB0REPLAY000000000001', options: ['Yes', 'No', 'Maybe'], selectableCount: 1 },
  { id: '3EB0REPLAY000000000002', options: ['Tea', 'Coffee'], selectableCount: 0 },
  { id: '3EB0REPLAY000000000003', options: ['1', '2', '3', '4', '5'], selectableCount: 1 },
].map((p, i) => ({ ...p, chatId: `12036300000000000${i}@g.us`, secret: new Uint8Array(32).fill(i + 1), question: `Q${i}`, timestamp: 100 + i }))

type Kind = 'both' | 'pn' | 'lid-mapped' | 'lid-merge' | 'pn-signs-lid' | 'me'
interface Planned { raw: RawVote; valid: boolean; poll: number; person: string; sel: number[]; ts: number }

/**
 * About 1,000 sightings: distinct votes from people addressed every way WhatsApp does it,
 * replacements, retractions, ties, malformed and over-selected votes, repeats of the same
 * stanza and Signal-layer sightings of the same vote.
 */
function plan(seed: number): { sightings: RawVote[]; planned: Planned[]; mapped: Array<[string, string]> } {
  const rnd = prng(seed)
  const people: Array<{ who: Voter; kind: Kind }> = []
  const kinds: Array<[Kind, number]> = [['both', 50], ['pn', 25], ['lid-mapped', 20], ['lid-merge', 20], ['pn-signs-lid', 15], ['me', 1]]
  let n = 0
  for (const [kind, count] of kinds) for (let i = 0; i < count; i++) people.push({ who: voter(n++), kind })
  const mapped = people.filter((p) => p.kind === 'lid-mapped' || p.kind === 'pn-signs-lid').map((p): [string, string] => [p.who.lid, p.who.pn])

  const planned: Planned[] = []
  let msg = 0
  const add = (person: (typeof people)[number], pi: number, o: Omit<VoteOpts, 'msgId'>, valid: boolean, sel: number[]) => {
    const raw = vote(POLLS[pi], person.who, { ...o, msgId: `M${msg++}` })
    planned.push({ raw, valid, poll: pi, person: person.kind === 'me' ? OWN_PN : person.who.pn, sel, ts: o.ts })
  }
  for (const person of people) {
    const lidVotes: Array<() => void> = []
    for (let pi = 0; pi < POLLS.length; pi++) {
      const poll = POLLS[pi]
      const times = Math.floor(rnd() * 3)
      for (let k = 0; k < times; k++) {
        // Ties in sender time are rare but must still resolve the same way in every order.
        const ts = 1000 + Math.floor(rnd() * 40) * 100
        const r = rnd()
        let sel: number[]
        if (r < 0.12) sel = []
        else if (poll.selectableCount === 1) sel = [Math.floor(rnd() * poll.options.length)]
        else sel = poll.options.map((_, i) => i).filter(() => rnd() < 0.45)
        const overSelect = poll.selectableCount === 1 && rnd() < 0.05
        if (overSelect) sel = [0, 1]
        const choose = sel.map((i) => poll.options[i])
        const o: Omit<VoteOpts, 'msgId'> = { choose, ts, receivedAt: ts + Math.floor(rnd() * 5000) }
        switch (person.kind) {
          case 'both': Object.assign(o, { address: rnd() < 0.5 ? 'group' : 'lid+pn', signAs: rnd() < 0.5 ? 'lid' : 'pn' }); break
          case 'pn': Object.assign(o, { address: 'pn', signAs: 'pn' }); break
          case 'lid-mapped': Object.assign(o, { address: 'lid', signAs: 'lid' }); break
          case 'pn-signs-lid': Object.assign(o, { address: 'pn', signAs: 'lid' }); break
          case 'me': Object.assign(o, { fromMe: true, signAs: rnd() < 0.5 ? 'lid' : 'pn' }); break
          case 'lid-merge': Object.assign(o, rnd() < 0.6 ? { address: 'lid', signAs: 'lid' } : { address: 'group', signAs: 'lid' }); break
        }
        if (person.kind === 'lid-merge' && o.address === 'lid') lidVotes.push(() => add(person, pi, o, !overSelect, sel))
        else add(person, pi, o, !overSelect, sel)
      }
    }
    lidVotes.forEach((f) => f())
    // A person known only by LID must show both JIDs once, or they stay a separate voter.
    if (person.kind === 'lid-merge') add(person, 2, { choose: ['Tea'], ts: 900, address: 'group', signAs: 'pn' }, true, [0])
  }
  // A few malformed sightings: never counted.
  for (let i = 0; i < 6; i++) {
    const v = planned[i * 7].raw
    planned.push({ raw: { ...v, msgId: `BAD${i}`, encIv: v.encIv.subarray(0, 8) }, valid: false, poll: 0, person: '', sel: [], ts: 0 })
  }
  const sightings = planned.map((p) => p.raw)
  // Repeats: the same stanza again, and the Signal-layer sighting of a vote before its upsert.
  while (sightings.length < 1000) {
    const v = planned[Math.floor(rnd() * planned.length)].raw
    sightings.push(rnd() < 0.5 ? { ...v, receivedAt: v.receivedAt + 1 } : { ...v, msgId: undefined, source: 'signal' })
  }
  return { sightings, planned, mapped }
}

/** The rules of API.md "Vote semantics", computed the simplest way, independently of the engine. */
function expected(planned: Planned[]): Record<string, { results: Record<string, number>; voters: Record<string, string[]> }> {
  const best = new Map<string, { ts: number; hash: string; sel: number[] }>()
  const seen = new Set<string>()
  for (const p of planned) {
    if (!p.valid) continue
    const hash = payloadHash(p.raw.pollId, p.raw.encIv, p.raw.encPayload)
    if (seen.has(hash)) continue
    seen.add(hash)
    const key = `${p.poll}|${p.person}`
    const cur = best.get(key)
    if (!cur || p.ts > cur.ts || (p.ts === cur.ts && hash > cur.hash)) best.set(key, { ts: p.ts, hash, sel: [...p.sel].sort((a, b) => a - b) })
  }
  const out: ReturnType<typeof expected> = {}
  POLLS.forEach((poll, pi) => {
    const results = Object.fromEntries(poll.options.map((o) => [o, 0]))
    const voters: Record<string, string[]> = {}
    for (const [key, b] of best) {
      const [idx, person] = key.split('|')
      if (Number(idx) !== pi || !b.sel.length) continue
      for (const i of b.sel) results[poll.options[i]]++
      voters[person] = b.sel.map((i) => optionHash(poll.options[i]))
    }
    out[poll.id] = { results, voters }
  })
  return out
}

const tallyOf = (all: Record<string, PollView>) =>
  Object.fromEntries(Object.entries(all).map(([id, p]) => [id, { results: p.results, voters: p.voters }]))

async function replay(sightings: RawVote[], mapped: Array<[string, string]>, rnd: () => number) {
  const r = await rig({ mapping: fakeLidMapping(mapped) })
  for (const p of POLLS) {
    await r.engine.recordPollCreation({ id: p.id, chatId: p.chatId, question: p.question, options: p.options, selectableCount: p.selectableCount, secret: p.secret, timestamp: p.timestamp })
  }
  // Random batch boundaries too: group commits of 1 to 150 votes.
  const order = shuffle(sightings, rnd)
  for (let i = 0; i < order.length;) {
    const size = 1 + Math.floor(rnd() * 150)
    await Promise.all(order.slice(i, i + size).map((v) => r.engine.ingestVote(v)))
    i += size
  }
  await r.engine.retryPending()
  return r
}

const replaySuite = suite('vote journal replay')

replaySuite('1,000 sightings in 20 seeded orders give the same tally, the expected one, equal to rebuild()', async () => {
  const { sightings, planned, mapped } = plan(42)
  assert.is(sightings.length, 1000)
  const want = expected(planned)
  const voterCount = Object.values(want).reduce((n, p) => n + Object.keys(p.voters).length, 0)
  assert.ok(voterCount > 150, `a tally worth comparing (${voterCount} current voters)`)

  const distinct = new Set(sightings.map((s) => payloadHash(s.pollId, s.encIv, s.encPayload))).size
  const rnd = prng(7)
  let first: ReturnType<typeof tallyOf> | undefined
  for (let round = 0; round < 20; round++) {
    const { engine } = await replay(sightings, mapped, rnd)
    const got = tallyOf(engine.all())
    assert.equal(got, want, `order ${round}`)
    if (first) assert.equal(got, first)
    first ??= got
    assert.equal(tallyOf(await engine.rebuild()), got, `rebuild after order ${round}`)
    const stats = engine.stats()
    assert.equal(stats.pending, { unknown_poll: 0, no_key: 0 })
    assert.is(stats.decrypted + stats.rejected, distinct, 'one original row per distinct vote')
    await engine.close()
  }
})

replaySuite.run()
