import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { decryptPollVote } from '@whiskeysockets/baileys'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decryptWithCandidates, encryptPollVote, optionHash, optionHashBytes, payloadHash } from '../../../core/votes/crypto.ts'

const secret = new Uint8Array(32).map((_, i) => i)
const ctx = { pollMsgId: '3EB0C0FFEE0000000000AA', pollCreatorJid: '15550000001@s.whatsapp.net', voterJid: '555500000001@lid' }

const enc = suite('encryptPollVote')

enc('is the exact inverse of Baileys decryptPollVote', () => {
  const v = encryptPollVote({ ...ctx, secret, selectedOptions: [optionHashBytes('Red'), optionHashBytes('Blue')] })
  assert.is(v.encIv.length, 12)
  const out = decryptPollVote(v, { ...ctx, pollEncKey: secret })
  assert.equal(out.selectedOptions.map((h) => Buffer.from(h).toString('hex')), [optionHash('Red'), optionHash('Blue')])
})

enc('optionHash is sha256 hex of the text', () => {
  assert.is(optionHash('Red'), 'ba19e9c3d5f49882ddaafed4f286a8a81491150426d321179270e27e74a89097')
  assert.equal(Buffer.from(optionHashBytes('Red')).toString('hex'), optionHash('Red'))
  assert.is(optionHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

enc.run()

// ---

const dec = suite('decryptWithCandidates')

dec('tries the pairs in order and reports the one whose GCM tag verifies', () => {
  const v = encryptPollVote({ ...ctx, secret, selectedOptions: [optionHashBytes('Red')] })
  const res = decryptWithCandidates(v, ctx.pollMsgId, secret,
    ['99990000001@lid', ctx.pollCreatorJid], ['17770000001@s.whatsapp.net', ctx.voterJid])
  assert.equal(res.ok && [res.creatorJid, res.voterJid, res.selected.length], [ctx.pollCreatorJid, ctx.voterJid, 1])
})

dec('no pair fits: no_key (a wrong secret, a tampered payload)', () => {
  const v = encryptPollVote({ ...ctx, secret, selectedOptions: [optionHashBytes('Red')] })
  assert.equal(decryptWithCandidates(v, ctx.pollMsgId, new Uint8Array(32), [ctx.pollCreatorJid], [ctx.voterJid]), { ok: false, reason: 'no_key' })
  const tampered = { encIv: v.encIv, encPayload: v.encPayload.map((x, i) => (i === 0 ? x ^ 1 : x)) }
  assert.equal(decryptWithCandidates(tampered, ctx.pollMsgId, secret, [ctx.pollCreatorJid], [ctx.voterJid]), { ok: false, reason: 'no_key' })
})

dec('an authentic payload that is not a PollVoteMessage is bad_plaintext, not a wrong key', () => {
  const sign = Buffer.concat([Buffer.from(ctx.pollMsgId), Buffer.from(ctx.pollCreatorJid), Buffer.from(ctx.voterJid), Buffer.from('Poll Vote'), Buffer.from([1])])
  const key0 = createHmac('sha256', Buffer.alloc(32)).update(secret).digest()
  const key = createHmac('sha256', key0).update(sign).digest()
  const iv = Buffer.alloc(12, 3)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(Buffer.from(`${ctx.pollMsgId}\u0000${ctx.voterJid}`))
  const encPayload = Buffer.concat([c.update(Buffer.from([0xff, 0xff, 0xff])), c.final(), c.getAuthTag()])
  assert.equal(decryptWithCandidates({ encPayload, encIv: iv }, ctx.pollMsgId, secret, [ctx.pollCreatorJid], [ctx.voterJid]), { ok: false, reason: 'bad_plaintext' })
})

dec.run()

// ---

const hash = suite('payloadHash')

hash('identifies the encrypted vote within its poll', () => {
  const v = encryptPollVote({ ...ctx, secret, selectedOptions: [] })
  const h = payloadHash('P1', v.encIv, v.encPayload)
  assert.match(h, /^[0-9a-f]{32}$/)
  assert.is(payloadHash('P1', v.encIv, v.encPayload), h)
  assert.is.not(payloadHash('P2', v.encIv, v.encPayload), h)
  const again = encryptPollVote({ ...ctx, secret, selectedOptions: [] })
  assert.is.not(payloadHash('P1', again.encIv, again.encPayload), h, 'the same choice sent again is another vote (fresh IV)')
})

hash('is the first 16 bytes of sha256(pollId, NUL, IV, payload), the journal\'s stored form, for any poll id', () => {
  // Journals written before keep their hashes: the one-shot form must not change a single one.
  const ids = ['P1', '3EB0C0FFEE0000000000AA', '', 'é✓', '😀x', 'a\u0000b', 'x'.repeat(300)]
  for (let i = 0; i < 200; i++) {
    const pollId = ids[i % ids.length]!
    const iv = randomBytes(12), payload = randomBytes(i % 90)
    const want = createHash('sha256').update(pollId).update('\0').update(iv).update(payload).digest().toString('hex', 0, 16)
    assert.is(payloadHash(pollId, new Uint8Array(iv), new Uint8Array(payload)), want, pollId)
  }
})

hash.run()

// ---

const same = suite('decryptWithCandidates against Baileys')

same('decrypts exactly what decryptPollVote decrypts, with the derivation cached across votes and polls', () => {
  const other = new Uint8Array(32).fill(9)
  const voters = ['555500000001@lid', '555500000002@lid', '17770000001@s.whatsapp.net']
  for (let round = 0; round < 3; round++) {
    for (const voterJid of voters) {
      // Two polls with the same id and different secrets (two accounts): the cache must not mix them up.
      for (const s of [secret, other]) {
        const v = encryptPollVote({ ...ctx, voterJid, secret: s, selectedOptions: [optionHashBytes(`opt${round}`)] })
        const want = decryptPollVote(v, { ...ctx, voterJid, pollEncKey: s }).selectedOptions.map((h) => Buffer.from(h).toString('hex'))
        const got = decryptWithCandidates(v, ctx.pollMsgId, s, [ctx.pollCreatorJid], voters)
        assert.equal(got.ok && [got.voterJid, got.selected.map((h) => Buffer.from(h).toString('hex'))], [voterJid, want])
        const wrongSecret = s === secret ? other : secret
        assert.equal(decryptWithCandidates(v, ctx.pollMsgId, wrongSecret, [ctx.pollCreatorJid], [voterJid]), { ok: false, reason: 'no_key' })
        assert.equal(decryptWithCandidates(v, `${ctx.pollMsgId}X`, s, [ctx.pollCreatorJid], [voterJid]), { ok: false, reason: 'no_key' }, 'another poll id, the same secret object')
      }
    }
  }
})

same.run()
