import { jidNormalizedUser } from '@whiskeysockets/baileys'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RawVote } from '../../store/ports.ts'
import { createIdentity, creatorCandidates, namedSender, norm, voterCandidates, withHint } from '../../core/identity.ts'
import { fakeLidMapping, OWN, silentLog } from './votes/fixtures.ts'

const base: RawVote = { pollId: 'P', chatId: 'g@g.us', fromMe: false, senderTimestampMs: 1, encPayload: new Uint8Array(), encIv: new Uint8Array(), source: 'notify', receivedAt: 1 }

const jids = suite('norm')

jids('agrees with Baileys jidNormalizedUser', () => {
  for (const j of ['1555:12@s.whatsapp.net', '1555@s.whatsapp.net', '999:3@lid', '999@lid', '1555_1:2@s.whatsapp.net', '1555@c.us', 'g@g.us', 'nojid', '']) {
    assert.is(norm(j), jidNormalizedUser(j), j)
  }
})

jids('creator candidates: own JIDs without device first; a hint moves to the front', () => {
  const c = creatorCandidates(OWN)
  assert.equal(c, ['15550000001@s.whatsapp.net', '99990000001@lid', OWN.pn, OWN.lid])
  assert.equal(withHint(c, '99990000001@lid'), ['99990000001@lid', '15550000001@s.whatsapp.net', OWN.pn, OWN.lid])
  assert.is(withHint(c, undefined), c)
  assert.equal(creatorCandidates({}), [])
})

jids.run()

// ---

const sender = suite('namedSender')

sender('a group vote names the participant and its alt; a direct one the chat and remoteJidAlt', () => {
  assert.equal(namedSender({ ...base, participant: '5:1@lid', participantAlt: '7@s.whatsapp.net' }),
    { named: ['5:1@lid', '7@s.whatsapp.net'], lid: '5@lid', pn: '7@s.whatsapp.net', addressedAs: 'lid' })
  assert.equal(namedSender({ ...base, chatId: '7@s.whatsapp.net' }), { named: ['7@s.whatsapp.net'], pn: '7@s.whatsapp.net', addressedAs: 'pn' })
  assert.equal(namedSender({ ...base, chatId: '5@lid', remoteJidAlt: '7@s.whatsapp.net' }).pn, '7@s.whatsapp.net')
})

sender('voter candidates: the addressed kind first, or the kind that last worked', () => {
  const p = { named: ['5:1@lid', '7@s.whatsapp.net'], lid: '5@lid', pn: '7@s.whatsapp.net', addressedAs: 'lid' as const }
  assert.equal(voterCandidates(p, undefined), ['5@lid', '7@s.whatsapp.net', '5:1@lid'])
  assert.equal(voterCandidates(p, 'pn'), ['7@s.whatsapp.net', '5@lid', '5:1@lid'])
})

sender.run()

// ---

const resolver = suite('createIdentity')

/** An identity logged in as OWN. */
function identityOf(lidMapping: Parameters<typeof createIdentity>[0]['lidMapping'], lookupTimeoutMs?: number) {
  const id = createIdentity({ lidMapping, log: silentLog(), lookupTimeoutMs })
  id.setOwn({ id: OWN.pn, lid: OWN.lid, name: 'Owner' })
  return id
}

resolver('a vote with both JIDs teaches the pair: a later LID-only vote is the same person', () => {
  const r = identityOf(fakeLidMapping())
  r.fromRaw({ ...base, participant: '5@lid', participantAlt: '7@s.whatsapp.net' })
  assert.is(r.fromRaw({ ...base, participant: '5@lid' }).pn, '7@s.whatsapp.net')
  assert.is(r.fromRaw({ ...base, chatId: '7@s.whatsapp.net' }).lid, undefined, 'PN → LID is left to Baileys')
})

resolver('own votes are the own account, whatever the message names', () => {
  const r = identityOf(fakeLidMapping())
  const p = r.fromRaw({ ...base, fromMe: true, participant: '5@lid' })
  assert.equal([p.pn, p.lid], ['15550000001@s.whatsapp.net', '99990000001@lid'])
})

resolver('asks the mapping store, normalises its answer, and remembers it', async () => {
  const mapping = fakeLidMapping([['5@lid', '7@s.whatsapp.net']])
  mapping.getPNForLID = async (lid) => { mapping.calls.push(lid); return '7:3@s.whatsapp.net' }
  const r = identityOf(mapping)
  const p = r.fromRaw({ ...base, participant: '5@lid' })
  await r.completePn(p)
  assert.is(p.pn, '7@s.whatsapp.net')
  const q = r.fromRaw({ ...base, participant: '5@lid' })
  await r.completePn(q)
  assert.is(q.pn, '7@s.whatsapp.net')
  assert.equal(mapping.calls, ['5@lid'], 'asked once')
})

resolver('a lookup that hangs or throws gives up in time and leaves the person as is', async () => {
  const never = { getPNForLID: () => new Promise<string>(() => {}), getLIDForPN: async (): Promise<string> => { throw new Error('store down') } }
  const r = identityOf(never, 20)
  const p = r.fromRaw({ ...base, participant: '5@lid' })
  const t = Date.now()
  await r.completePn(p)
  assert.ok(Date.now() - t < 500)
  assert.is(p.pn, undefined)
  const q = r.fromRaw({ ...base, chatId: '7@s.whatsapp.net' })
  await r.completeLid(q)
  assert.is(q.lid, undefined)
})

resolver('own JIDs, any device; chats: a known LID is listed by its number, the own account not at all', () => {
  const r = identityOf(fakeLidMapping())
  assert.ok(r.isOwn('15550000001:7@s.whatsapp.net'))
  assert.ok(r.isOwn('99990000001@lid'))
  assert.not.ok(r.isOwn('15550000002@s.whatsapp.net'))
  r.learn('15551110001@s.whatsapp.net', '80000000001@lid')
  assert.is(r.chatId('80000000001@lid'), '15551110001@s.whatsapp.net')
  assert.is(r.chatId('80000000009@lid'), '80000000009@lid')
  assert.is(r.chatId('15550000001@s.whatsapp.net'), null)
  r.setOwn(null)
  assert.not.ok(r.isOwn('15550000001@s.whatsapp.net'), 'nobody after a logout')
})

resolver.run()
