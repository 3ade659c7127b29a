import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openDb, openMemoryDb, tx } from '../../session/db.ts'
import { createPollStore } from '../../session/poll-store.ts'
import type { PollRecord } from '../../session/poll-store.ts'
import type { RawVote } from '../../session/poll-types.ts'
import { tempDir } from './vote-fixtures.ts'

const rec: PollRecord = {
  id: 'P1', chatId: 'c@g.us', question: 'Q', options: ['A', 'B'], hashes: ['ha', 'hb'], selectableCount: 1,
  secret: new Uint8Array(32).fill(9), timestamp: 1000, status: 'sending',
}
const raw: RawVote = {
  pollId: 'P1', chatId: 'c@g.us', participant: '5@lid', fromMe: false, senderTimestampMs: 2000,
  encPayload: new Uint8Array([1, 2, 3]), encIv: new Uint8Array(12), source: 'signal', receivedAt: 2001,
}

const store = suite('createPollStore')

store('keeps polls with their secret and status across a reopen of the file', () => {
  const tmp = tempDir()
  try {
    const db = openDb(tmp.dir)
    const s = createPollStore(db)
    tx(db, () => s.insertPoll(rec, 1000))
    s.setStatus('P1', 'failed', 'nope', 1001)
    s.setCreator('P1', 'me@lid')
    db.close()
    const again = createPollStore(openDb(tmp.dir))
    assert.equal(again.polls(), [{ ...rec, status: 'failed', reason: 'nope', creatorJid: 'me@lid' }])
  } finally {
    tmp.remove()
  }
})

store('journals raw votes verbatim; enrichment fills only what was missing; derived columns update', () => {
  const db = openMemoryDb()
  const s = createPollStore(db)
  s.insertVote(1, 'h1', raw, { state: 'pending', reason: 'no_key' }, false)
  s.insertVote(2, 'h1', raw, { state: 'dup', dupOf: 1 }, false)
  s.enrich(1, { ...raw, msgId: 'M1', participant: 'other@lid', participantAlt: '7@s.whatsapp.net' })
  s.setDerived(1, { state: 'ok', voterKey: '7@s.whatsapp.net', creatorJid: 'me', voterJid: '5@lid', selected: ['ha'], mask: 1 })
  const [one, two] = s.bySeqs([2, 1])
  assert.equal(one, {
    seq: 1, hash: 'h1',
    raw: { ...raw, msgId: 'M1', participantAlt: '7@s.whatsapp.net', remoteJidAlt: undefined },
    state: 'ok', reason: undefined, dupOf: undefined, voterKey: '7@s.whatsapp.net', creatorJid: 'me', voterJid: '5@lid',
    selected: ['ha'], mask: 1, confirmed: true,
  })
  assert.equal([two.state, two.dupOf, two.confirmed], ['dup', 1, false])
  assert.equal([...s.scan()], [['P1', [
    { seq: 1, hash: 'h1', state: 'ok', voterKey: '7@s.whatsapp.net', senderTs: 2000, mask: 1, selected: null },
    { seq: 2, hash: 'h1', state: 'dup', voterKey: null, senderTs: 2000, mask: null, selected: null },
  ]]])
  assert.equal(s.unconfirmed().map((r) => [r.seq, r.hash]), [[2, 'h1']], 'the first sighting was confirmed by enrichment')
  assert.equal(s.pending(), [])
  assert.is(s.maxSeq(), 2)
})

store('an empty selection (retraction) reads back as an empty list, not as none', () => {
  const s = createPollStore(openMemoryDb())
  s.insertVote(1, 'h', raw, { state: 'ok', voterKey: 'v', selected: [] }, false)
  assert.equal(s.bySeqs([1])[0].selected, [])
})

store('remembers merged persons once', () => {
  const s = createPollStore(openMemoryDb())
  s.addPerson('5@lid', '7@s.whatsapp.net')
  s.addPerson('5@lid', '8@s.whatsapp.net')
  assert.equal(s.persons(), [{ lid: '5@lid', pn: '7@s.whatsapp.net' }])
})

store.run()
