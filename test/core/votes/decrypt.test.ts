import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { optionHash } from '../../../core/votes/crypto.ts'
import { deriveVote, hintsOf } from '../../../core/votes/decrypt.ts'
import type { DecryptablePoll } from '../../../core/votes/decrypt.ts'
import { creatorCandidates, namedSender } from '../../../core/identity.ts'
import { OWN, OWN_LID, OWN_PN, vote, voter } from './fixtures.ts'

const secret = new Uint8Array(32).fill(4)
const poll = (selectableCount = 0): DecryptablePoll => ({
  id: '3EB0DE1DE1DE1DE1DE1DE1', secret, selectableCount,
  hashIndex: new Map(['Red', 'Blue', 'Green'].map((o, i) => [optionHash(o), i])),
})
const own = creatorCandidates(OWN)
const who = voter(9)

const derive = suite('deriveVote')

derive('decrypts, maps hashes to option indices (deduplicated, ascending), keys by PN, remembers the pair', () => {
  const p = poll()
  const raw = vote(p, who, { choose: ['Green', 'Red', 'Green'], ts: 1, creator: OWN_LID, signAs: 'lid' })
  const d = deriveVote(raw, p, namedSender(raw), own)
  assert.equal(d, {
    state: 'ok', voterKey: who.pn, selected: [optionHash('Green'), optionHash('Red'), optionHash('Green')], sel: [0, 2], mask: 0b101,
    creatorJid: OWN_LID, voterJid: who.lid,
  })
  assert.equal(hintsOf(d), { creatorHint: OWN_LID, voterHint: 'lid' }, 'the pair to try first next time')
  assert.is(p.creatorHint, undefined, 'the poll itself is left as it was')
})

derive('shape errors are rejected before anything else; an unknown poll or key is pending', () => {
  const p = poll()
  const raw = vote(p, who, { choose: ['Red'], ts: 1 })
  const person = namedSender(raw)
  assert.equal(deriveVote({ ...raw, encIv: new Uint8Array(16) }, p, person, own), { state: 'rejected', reason: 'bad_iv' })
  assert.equal(deriveVote({ ...raw, encPayload: new Uint8Array(15) }, undefined, person, own), { state: 'rejected', reason: 'truncated' })
  assert.equal(deriveVote(raw, undefined, person, own), { state: 'pending', reason: 'unknown_poll' })
  assert.equal(deriveVote(raw, p, { named: ['1@s.whatsapp.net'], pn: '1@s.whatsapp.net' }, own), { state: 'pending', reason: 'no_key' })
  assert.equal(deriveVote(raw, p, person, []), { state: 'pending', reason: 'no_key' }, 'before login there is no creator to try')
})

derive('a hash that names no option, or too many options for the poll, is rejected', () => {
  const p = poll(1)
  const a = vote(p, who, { choose: ['Red', new Uint8Array(32)], ts: 1 })
  assert.equal(deriveVote(a, p, namedSender(a), own), {
    state: 'rejected', reason: 'unknown_option', selected: [optionHash('Red'), '00'.repeat(32)], creatorJid: OWN_PN, voterJid: who.pn,
  })
  const b = vote(p, who, { choose: ['Red', 'Blue'], ts: 1 })
  assert.equal(deriveVote(b, p, namedSender(b), own).state, 'rejected')
  assert.equal((deriveVote(b, p, namedSender(b), own) as { reason: string }).reason, 'too_many_options')
})

derive.run()
