import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AccountStore, CampaignRecord, PollRecord, RawVote, Store } from '../../store/ports.ts'
import type { OutboxEvent } from '../../store/outbox-port.ts'
import type { WebhookEventType } from '../../contract/webhooks.ts'

/**
 * The store port's contract, written once and run against every implementation
 * (test/store/sqlite.test.ts, test/store/memory.test.ts, test/store/postgres.test.ts).
 */
export interface StoreUnderTest {
  store: Store
  /** the same data opened again (a restart); absent for a store that lives in memory only */
  reopen?(): Promise<Store>
  /** makes the next writes fail as a full disk would, or work again */
  failWrites(on: boolean): void
  close(): Promise<void>
}

const rec: PollRecord = {
  id: 'P1', chatId: 'c@g.us', question: 'Q', options: ['A', 'B'], hashes: ['ha', 'hb'], selectableCount: 1,
  secret: new Uint8Array(32).fill(9), timestamp: 1000, status: 'sending',
}
const raw: RawVote = {
  pollId: 'P1', chatId: 'c@g.us', participant: '5@lid', fromMe: false, senderTimestampMs: 2000,
  encPayload: new Uint8Array([1, 2, 3]), encIv: new Uint8Array(12), source: 'signal', receivedAt: 2001,
}

export function storeContract(name: string, open: () => Promise<StoreUnderTest>): void {
  const journal = suite<{ t: StoreUnderTest; a: AccountStore }>(`${name}: vote journal`)
  journal.before.each(async (ctx) => { ctx.t = await open(); ctx.a = ctx.t.store.account('default') })
  journal.after.each(async (ctx) => { await ctx.t.close() })

  journal('keeps polls with their secret, status and creator', async ({ t, a }) => {
    await a.votes.commit({ polls: [rec] })
    await a.votes.commit({ statuses: [{ id: 'P1', status: 'failed', reason: 'nope', at: 1001 }], creators: [{ id: 'P1', jid: 'me@lid' }] })
    const want = [{ ...rec, status: 'failed', reason: 'nope', creatorJid: 'me@lid' }]
    assert.equal(await a.votes.polls(), want)
    if (t.reopen) assert.equal(await (await t.reopen()).account('default').votes.polls(), want, 'after a restart')
  })

  journal('journals raw votes verbatim; enrichment fills only what was missing; derived columns update', async ({ a }) => {
    await a.votes.commit({ votes: [
      { seq: 1, hash: 'h1', raw, derived: { state: 'pending', reason: 'no_key' }, confirmed: false },
      { seq: 2, hash: 'h1', raw, derived: { state: 'dup', dupOf: 1 }, confirmed: false },
    ] })
    assert.equal((await a.votes.pending()).map((r) => [r.seq, r.reason, r.raw.participant]), [[1, 'no_key', '5@lid']])
    await a.votes.commit({
      enrich: [{ seq: 1, raw: { ...raw, msgId: 'M1', participant: 'other@lid', participantAlt: '7@s.whatsapp.net' } }],
      derived: [{ seq: 1, derived: { state: 'ok', voterKey: '7@s.whatsapp.net', creatorJid: 'me', voterJid: '5@lid', selected: ['ha'], mask: 1 } }],
    })
    const [one, two] = await a.votes.rows([2, 1])
    assert.equal(one, {
      seq: 1, hash: 'h1',
      raw: { ...raw, msgId: 'M1', participantAlt: '7@s.whatsapp.net', remoteJidAlt: undefined },
      state: 'ok', reason: undefined, dupOf: undefined, voterKey: '7@s.whatsapp.net', creatorJid: 'me', voterJid: '5@lid',
      selected: ['ha'], mask: 1, confirmed: true,
    })
    assert.equal([two!.state, two!.dupOf, two!.confirmed], ['dup', 1, false])
    const scanned: unknown[] = []
    for await (const chunk of a.votes.scan()) scanned.push(...chunk)
    assert.equal(scanned, [
      { seq: 1, pollId: 'P1', hash: 'h1', state: 'ok', voterKey: '7@s.whatsapp.net', senderTs: 2000, mask: 1, selected: null },
      { seq: 2, pollId: 'P1', hash: 'h1', state: 'dup', voterKey: null, senderTs: 2000, mask: null, selected: null },
    ])
    assert.equal((await a.votes.unconfirmed()).map((r) => [r.seq, r.hash]), [[2, 'h1']], 'the first sighting was confirmed by enrichment')
    assert.equal(await a.votes.pending(), [])
    assert.is(await a.votes.maxSeq(), 2)
    assert.equal(await a.votes.seqsOfPoll('P1'), [1, 2])
  })

  journal('scans in journal order across polls; reads one poll\'s rows within a range of numbers', async ({ a }) => {
    const row = (seq: number, pollId: string) => ({ seq, hash: `h${seq}`, raw: { ...raw, pollId, source: 'notify' as const },
      derived: { state: 'ok' as const, voterKey: `${seq}@lid`, mask: 1 }, confirmed: false })
    await a.votes.commit({ votes: [row(1, 'P1'), row(2, 'P2'), row(3, 'P1'), row(5, 'P2'), row(6, 'P1'), row(8, 'P1')] })
    const scanned: Array<[number, string]> = []
    for await (const chunk of a.votes.scan()) for (const r of chunk) scanned.push([r.seq, r.pollId])
    assert.equal(scanned, [[1, 'P1'], [2, 'P2'], [3, 'P1'], [5, 'P2'], [6, 'P1'], [8, 'P1']])
    assert.equal((await a.votes.pollRows('P1', 1, 6)).map((r) => [r.seq, r.raw.pollId, r.voterKey]), [[1, 'P1', '1@lid'], [3, 'P1', '3@lid'], [6, 'P1', '6@lid']])
    assert.equal((await a.votes.pollRows('P2', 3, 8)).map((r) => r.seq), [5])
    assert.equal(await a.votes.pollRows('P3', 1, 8), [])
  })

  journal('scans a poll id or voter key holding the scan\'s separators, and any sender timestamp, as it is', async ({ a }) => {
    const odd = ['P\x1f1', '\x1eP2', 'P\x1eé€😀']
    const ts = [-5, Number.MAX_SAFE_INTEGER, 1_700_000_000_123]
    await a.votes.commit({ votes: odd.map((pollId, i) => ({ seq: i + 1, hash: `h${i}`, raw: { ...raw, pollId, senderTimestampMs: ts[i]! },
      derived: { state: 'ok' as const, voterKey: `${pollId}@lid`, mask: 1 }, confirmed: false })) })
    const scanned: Array<[string, string | null, number, number | null]> = []
    for await (const chunk of a.votes.scan()) for (const r of chunk) scanned.push([r.pollId, r.voterKey, r.senderTs, r.mask])
    assert.equal(scanned, odd.map((id, i) => [id, `${id}@lid`, ts[i]!, 1]))
  })

  journal('an empty selection (retraction) reads back as an empty list, not as none', async ({ a }) => {
    await a.votes.commit({ votes: [{ seq: 1, hash: 'h', raw, derived: { state: 'ok', voterKey: 'v', selected: [] }, confirmed: false }] })
    assert.equal((await a.votes.rows([1]))[0]!.selected, [])
  })

  journal('remembers merged persons once', async ({ a }) => {
    await a.votes.commit({ persons: [{ lid: '5@lid', pn: '7@s.whatsapp.net' }] })
    await a.votes.commit({ persons: [{ lid: '5@lid', pn: '8@s.whatsapp.net' }] })
    assert.equal(await a.votes.persons(), [{ lid: '5@lid', pn: '7@s.whatsapp.net' }])
  })

  journal('expiry turns only pending rows into rejected/expired; old pending rows are found by age', async ({ a }) => {
    await a.votes.commit({ votes: [
      { seq: 1, hash: 'a', raw: { ...raw, receivedAt: 10 }, derived: { state: 'pending', reason: 'no_key' }, confirmed: true },
      { seq: 2, hash: 'b', raw: { ...raw, receivedAt: 20 }, derived: { state: 'pending', reason: 'unknown_poll' }, confirmed: true },
      { seq: 3, hash: 'c', raw: { ...raw, receivedAt: 5 }, derived: { state: 'ok', voterKey: 'v', selected: ['ha'], mask: 1 }, confirmed: true },
    ] })
    assert.equal(await a.votes.pendingBefore(15), [1])
    await a.votes.commit({ expire: [1, 3] })
    assert.equal((await a.votes.rows([1, 2, 3])).map((r) => [r.state, r.reason]), [['rejected', 'expired'], ['pending', 'unknown_poll'], ['ok', undefined]])
  })

  journal('a commit that fails changes nothing, and the store says so', async ({ t, a }) => {
    await a.votes.commit({ polls: [rec] })
    t.failWrites(true)
    // Big enough to need space a full disk does not have.
    const many = Array.from({ length: 50 }, (_, i) => ({ seq: i + 1, hash: `h${i}`, raw: { ...raw, encPayload: new Uint8Array(2048) },
      derived: { state: 'pending' as const, reason: 'no_key' }, confirmed: false }))
    await a.votes.commit({ votes: many, statuses: [{ id: 'P1', status: 'sent', at: 1 }] })
      .then(() => assert.unreachable('must fail'), () => undefined)
    assert.not.ok(t.store.health.ok(), 'health reports the failure')
    t.failWrites(false)
    assert.equal(await a.votes.rows([1]), [])
    assert.is((await a.votes.polls())[0]!.status, 'sending')
    await a.votes.commit({ votes: [{ seq: 1, hash: 'h', raw, derived: { state: 'pending', reason: 'no_key' }, confirmed: false }] })
    assert.ok(t.store.health.ok(), 'a write that works clears it')
  })

  journal('a duplicate poll id or journal number is refused as a whole', async ({ a }) => {
    await a.votes.commit({ polls: [rec] })
    await a.votes.commit({ polls: [rec], votes: [{ seq: 9, hash: 'h', raw, derived: { state: 'pending', reason: 'no_key' }, confirmed: false }] })
      .then(() => assert.unreachable('must fail'), () => undefined)
    assert.equal(await a.votes.rows([9]), [], 'nothing of the failed commit stays')
  })

  journal('accounts do not see each other', async ({ t, a }) => {
    await a.votes.commit({ polls: [rec] })
    await a.chats.upsert([{ id: '1@s.whatsapp.net', name: 'A' }])
    const other = t.store.account('shop')
    assert.equal(await other.votes.polls(), [])
    assert.equal(await other.chats.all(), [])
    assert.is(await other.votes.maxSeq(), 0)
  })

  journal.run()

  const chats = suite<{ t: StoreUnderTest; a: AccountStore }>(`${name}: chats`)
  chats.before.each(async (ctx) => { ctx.t = await open(); ctx.a = ctx.t.store.account('default') })
  chats.after.each(async (ctx) => { await ctx.t.close() })

  chats('upsert adds and renames; a null name keeps the known one; clear empties', async ({ t, a }) => {
    await a.chats.upsert([{ id: '1@s.whatsapp.net', name: 'Alice' }, { id: '2@g.us', name: null }])
    await a.chats.upsert([{ id: '1@s.whatsapp.net', name: null }, { id: '2@g.us', name: 'Team' }])
    const sorted = async (s: AccountStore) => (await s.chats.all()).sort((x, y) => x.id.localeCompare(y.id))
    const want = [{ id: '1@s.whatsapp.net', name: 'Alice' }, { id: '2@g.us', name: 'Team' }]
    assert.equal(await sorted(a), want)
    const back = t.reopen ? (await t.reopen()).account('default') : a
    assert.equal(await sorted(back), want, 'after a restart')
    await back.chats.clear()
    assert.equal(await back.chats.all(), [])
  })
  chats.run()

  const auth = suite<{ t: StoreUnderTest; a: AccountStore }>(`${name}: auth state`)
  auth.before.each(async (ctx) => { ctx.t = await open(); ctx.a = ctx.t.store.account('default') })
  auth.after.each(async (ctx) => { await ctx.t.close() })

  auth('fresh creds until saved; saved creds and Buffers survive; null deletes a key; clear forgets everything', async ({ t, a }) => {
    const state = await a.auth.load()
    assert.not.ok(state.creds.me, 'fresh')
    state.creds.me = { id: '15550000001:2@s.whatsapp.net', lid: '900000000000001:2@lid' }
    await a.auth.saveCreds(state.creds)
    await state.keys.set({ session: { 'a.0': new Uint8Array([1, 2, 3]), x: new Uint8Array([4]) }, 'pre-key': { '1': { public: new Uint8Array([9]), private: new Uint8Array([8]) } } })
    await state.keys.set({ session: { x: null } })
    const back = t.reopen ? (await t.reopen()).account('default') : a
    const loaded = await back.auth.load()
    assert.is(loaded.creds.me?.id, '15550000001:2@s.whatsapp.net')
    assert.equal(Buffer.from(loaded.creds.noiseKey.private), Buffer.from(state.creds.noiseKey.private))
    const got = await loaded.keys.get('session', ['a.0', 'x', 'missing'])
    assert.equal(Object.keys(got), ['a.0'])
    assert.equal([...got['a.0']!], [1, 2, 3])
    assert.equal([...(await loaded.keys.get('pre-key', ['1']))['1']!.public], [9])
    await back.auth.clear()
    assert.not.ok((await back.auth.load()).creds.me)
    assert.equal(await (await back.auth.load()).keys.get('session', ['a.0']), {})
  })

  auth('LID↔PN pairs: lookups, the whole list, and a report after each write that stores new ones', async ({ a }) => {
    const seen: Array<{ lid: string; pn: string }> = []
    const off = a.auth.onLidMapping((pairs) => seen.push(...pairs))
    const keys = (await a.auth.load()).keys
    await keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
    await keys.set({ 'pre-key': { '1': { public: new Uint8Array(32), private: new Uint8Array(32) } } })
    off()
    await keys.set({ 'lid-mapping': { '15551110002': '80000000002', '80000000002_reverse': '15551110002' } })
    assert.equal(seen, [{ pn: '15551110001@s.whatsapp.net', lid: '80000000001@lid' }])
    assert.is(await a.auth.getLIDForPN('15551110001:3@s.whatsapp.net'), '80000000001@lid')
    assert.is(await a.auth.getPNForLID('80000000001@lid'), '15551110001@s.whatsapp.net')
    assert.is(await a.auth.getPNForLID('1@lid'), null)
    assert.equal((await a.auth.lidPairs()).sort((x, y) => x.pn.localeCompare(y.pn)), [
      { pn: '15551110001@s.whatsapp.net', lid: '80000000001@lid' },
      { pn: '15551110002@s.whatsapp.net', lid: '80000000002@lid' },
    ])
  })
  auth('credentials saved without waiting: a later load sees the last one, a clear after them wins', async ({ a }) => {
    // connection.ts does not await saveCreds (Baileys' creds.update): the store keeps the call order.
    const base = (await a.auth.load()).creds
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3; i++) void a.auth.saveCreds({ ...base, me: { id: `1555000000${round}:${i}@s.whatsapp.net` } })
      assert.is((await a.auth.load()).creds.me?.id, `1555000000${round}:2@s.whatsapp.net`, `round ${round}: the last save`)
      void a.auth.saveCreds({ ...base, me: { id: '15550000099:9@s.whatsapp.net' } })
      await a.auth.clear()
      assert.not.ok((await a.auth.load()).creds.me, `round ${round}: cleared after the save on its way`)
    }
  })

  const bytesOf = async (keys: Awaited<ReturnType<AccountStore['auth']['load']>>['keys'], id: string) => {
    const got = (await keys.get('session', [id]))[id]
    return got ? [...got] : undefined
  }

  auth('held key writes: read back at once, committed by the vote that carries them, in its transaction', async ({ t, a }) => {
    const keys = (await a.auth.load()).keys
    const hold = a.auth.holdKeys()
    await hold.run(async () => { await keys.set({ session: { 's.0': new Uint8Array([1]), 'gone.0': null } }) })
    assert.equal(await bytesOf(keys, 's.0'), [1], 'read while held')
    await a.votes.commit({ polls: [rec], alongside: [hold.alongside()] })
    await hold.finish()
    const back = t.reopen ? (await t.reopen()).account('default') : a
    assert.equal(await bytesOf((await back.auth.load()).keys, 's.0'), [1])
    assert.equal((await back.votes.polls()).map((p) => p.id), ['P1'])
  })

  auth('held key writes: held() until a commit carries them; a commit of keys alone (no vote) writes them', async ({ t, a }) => {
    const keys = (await a.auth.load()).keys
    const hold = a.auth.holdKeys()
    assert.not.ok(hold.held(), 'nothing staged yet')
    await hold.run(async () => { await keys.set({ session: { 'alone.0': new Uint8Array([4]) } }) })
    assert.ok(hold.held(), 'staged, carried by no commit')
    await a.votes.commit({ alongside: [hold.alongside()] })
    assert.not.ok(hold.held(), 'carried by that commit')
    await hold.finish()
    const back = t.reopen ? (await t.reopen()).account('default') : a
    assert.equal(await bytesOf((await back.auth.load()).keys, 'alone.0'), [4])
  })

  auth('held key writes: written at finish if no vote took them; dropped when its vote failed', async ({ t, a }) => {
    const keys = (await a.auth.load()).keys
    const left = a.auth.holdKeys()
    await left.run(async () => { await keys.set({ session: { 'left.0': new Uint8Array([2]) } }) })
    await left.finish()
    const failed = a.auth.holdKeys()
    await failed.run(async () => { await keys.set({ session: { 'failed.0': new Uint8Array([3]) } }) })
    failed.drop()
    assert.is(await bytesOf(keys, 'failed.0'), undefined, 'dropped at once')
    const back = t.reopen ? (await t.reopen()).account('default') : a
    const reloaded = (await back.auth.load()).keys
    assert.equal([await bytesOf(reloaded, 'left.0'), await bytesOf(reloaded, 'failed.0')], [[2], undefined])
  })

  auth('held key writes: a vote commit that fails writes none of them', async ({ t, a }) => {
    const keys = (await a.auth.load()).keys
    await keys.set({ session: { 'k.0': new Uint8Array([1]) } })
    t.failWrites(true)
    const hold = a.auth.holdKeys()
    // Large enough to need new pages: SQLite's full disk refuses only growth.
    await hold.run(async () => { await keys.set({ session: { 'k.0': new Uint8Array([9]), 'big.0': new Uint8Array(256 * 1024) } }) })
    await a.votes.commit({ polls: [rec], alongside: [hold.alongside()] }).then(() => assert.unreachable('must fail'), () => undefined)
    hold.drop()
    t.failWrites(false)
    assert.equal(await bytesOf(keys, 'k.0'), [1], 'the committed value again')
    assert.equal(await a.votes.polls(), [])
  })

  auth('held key writes are not written before the vote: a crash in between leaves the old value', async ({ t, a }) => {
    if (!t.reopen) return
    const keys = (await a.auth.load()).keys
    await keys.set({ session: { 'r.0': new Uint8Array([1]) } })
    await a.auth.holdKeys().run(async () => { await keys.set({ session: { 'r.0': new Uint8Array([2]) } }) })
    const after = await t.reopen()
    assert.equal(await bytesOf((await after.account('default').auth.load()).keys, 'r.0'), [1])
  })

  auth('a reset voids every hold opened before it: nothing it staged or stages later is written', async ({ t, a }) => {
    const keys = (await a.auth.load()).keys
    const before = a.auth.holdKeys()
    await before.run(async () => { await keys.set({ session: { 'v.0': new Uint8Array([1]) } }) })
    a.auth.resetHeldKeys()
    assert.is(await bytesOf(keys, 'v.0'), undefined, 'forgotten')
    await before.run(async () => { await keys.set({ session: { 'w.0': new Uint8Array([2]) } }) })
    await a.votes.commit({ polls: [rec], alongside: [before.alongside()] })
    await before.finish()
    const back = t.reopen ? (await t.reopen()).account('default') : a
    const reloaded = (await back.auth.load()).keys
    assert.equal([await bytesOf(reloaded, 'v.0'), await bytesOf(reloaded, 'w.0')], [undefined, undefined])
    assert.equal((await back.votes.polls()).map((p) => p.id), ['P1'], 'the vote itself commits')
  })
  auth.run()

  const registry = suite<{ t: StoreUnderTest }>(`${name}: account registry`)
  registry.before.each(async (ctx) => { ctx.t = await open() })
  registry.after.each(async (ctx) => { await ctx.t.close() })

  registry('default is always registered; others in the order added, once each; ids are checked', async ({ t }) => {
    assert.equal(await t.store.accounts(), ['default'])
    assert.is(await t.store.addAccount('shop'), true)
    assert.is(await t.store.addAccount('b-2_x'), true)
    assert.is(await t.store.addAccount('shop'), false)
    assert.is(await t.store.addAccount('default'), false)
    await t.store.addAccount('Bad Id').then(() => assert.unreachable('must fail'), (err) => assert.match(String(err), /invalid account id/))
    assert.equal(await t.store.accounts(), ['default', 'shop', 'b-2_x'])
    if (t.reopen) assert.equal(await (await t.reopen()).accounts(), ['default', 'shop', 'b-2_x'], 'after a restart')
  })

  /** Fills one account's slice: a poll, a vote, a merged person, a chat, credentials and a key. */
  const fill = async (a: AccountStore, seq: number) => {
    await a.votes.commit({ polls: [{ ...rec, id: `P${seq}` }], persons: [{ lid: '5@lid', pn: '7@s.whatsapp.net' }],
      votes: [{ seq, hash: 'h', raw: { ...raw, pollId: `P${seq}` }, derived: { state: 'pending', reason: 'no_key' }, confirmed: false }] })
    await a.chats.upsert([{ id: '1@s.whatsapp.net', name: 'A' }])
    const state = await a.auth.load()
    state.creds.me = { id: '15550000002:3@s.whatsapp.net' }
    await a.auth.saveCreds(state.creds)
    await state.keys.set({ session: { 'a.0': new Uint8Array([1]) } })
  }
  const slice = async (a: AccountStore) => ({
    polls: (await a.votes.polls()).map((p) => p.id),
    pending: (await a.votes.pending()).map((r) => r.seq),
    persons: (await a.votes.persons()).length,
    chats: (await a.chats.all()).length,
    linked: !!(await a.auth.load()).creds.me,
    keys: Object.keys(await (await a.auth.load()).keys.get('session', ['a.0'])).length,
  })

  registry('removing an account forgets its credentials, keys and chats, keeps its polls and votes; others untouched', async ({ t }) => {
    await t.store.addAccount('shop')
    await fill(t.store.account('shop'), 1)
    await fill(t.store.account('default'), 2)
    assert.is(await t.store.removeAccount('shop', false), true)
    assert.equal(await t.store.accounts(), ['default'])
    assert.equal(await slice(t.store.account('shop')), { polls: ['P1'], pending: [1], persons: 1, chats: 0, linked: false, keys: 0 })
    assert.equal(await slice(t.store.account('default')), { polls: ['P2'], pending: [2], persons: 1, chats: 1, linked: true, keys: 1 })
    assert.is(await t.store.removeAccount('shop', false), false, 'not registered any more')
    await t.store.addAccount('shop')
    assert.equal((await t.store.account('shop').votes.polls()).map((p) => p.id), ['P1'], 'added again, its history is back')
  })

  registry('purging an account deletes everything of it; others untouched; default cannot be removed', async ({ t }) => {
    await t.store.addAccount('shop')
    await fill(t.store.account('shop'), 1)
    await fill(t.store.account('default'), 2)
    assert.is(await t.store.removeAccount('shop', true), true)
    const back = t.reopen ? await t.reopen() : t.store
    assert.equal(await back.accounts(), ['default'])
    assert.equal(await slice(back.account('shop')), { polls: [], pending: [], persons: 0, chats: 0, linked: false, keys: 0 })
    assert.equal(await slice(back.account('default')), { polls: ['P2'], pending: [2], persons: 1, chats: 1, linked: true, keys: 1 })
    await back.removeAccount('default', true).then(() => assert.unreachable('must fail'), (err) => assert.match(String(err), /default/))
    assert.equal(await slice(back.account('default')), { polls: ['P2'], pending: [2], persons: 1, chats: 1, linked: true, keys: 1 })
  })
  registry.run()

  const campaigns = suite<{ t: StoreUnderTest; a: AccountStore }>(`${name}: campaigns`)
  campaigns.before.each(async (ctx) => { ctx.t = await open(); ctx.a = ctx.t.store.account('default') })
  campaigns.after.each(async (ctx) => { await ctx.t.close() })

  const campaign: CampaignRecord = { id: 'K1', question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1, delayMin: 10, delayMax: 20, status: 'running', createdAt: 5000 }
  const chatIds = ['1@s.whatsapp.net', '2@g.us', '3@g.us']

  campaigns('a campaign and its chats commit together; chat states, poll ids and errors change; a restart reads them back', async ({ t, a }) => {
    await a.campaigns.commit({ create: { campaign, chatIds } })
    await a.campaigns.commit({ chats: [{ campaignId: 'K1', idx: 0, state: 'sending', pollMsgId: 'M0', at: 6000 }] })
    await a.campaigns.commit({ chats: [{ campaignId: 'K1', idx: 0, state: 'sent', at: 6001 }, { campaignId: 'K1', idx: 1, state: 'failed', error: 'nope', at: 6002 }] })
    await a.campaigns.commit({ status: { id: 'K1', status: 'paused' } })
    const want = [{ ...campaign, status: 'paused', chats: [
      { idx: 0, chatId: chatIds[0], state: 'sent', pollMsgId: 'M0', at: 6001 },
      { idx: 1, chatId: chatIds[1], state: 'failed', error: 'nope', at: 6002 },
      { idx: 2, chatId: chatIds[2], state: 'queued' },
    ] }]
    assert.equal(await a.campaigns.all(), want)
    if (t.reopen) assert.equal(await (await t.reopen()).account('default').campaigns.all(), want, 'after a restart')
  })

  campaigns('a failed commit changes nothing; campaigns are per account; oldest first; a purge deletes them', async ({ t, a }) => {
    await a.campaigns.commit({ create: { campaign, chatIds } })
    await a.campaigns.commit({ create: { campaign: { ...campaign, id: 'K0', createdAt: 4000 }, chatIds: ['9@g.us'] } })
    t.failWrites(true)
    // With a new campaign of many chats in it: a full disk refuses new pages, not updates in place.
    const many = Array.from({ length: 500 }, (_, i) => `${10000 + i}@g.us`)
    await a.campaigns.commit({ create: { campaign: { ...campaign, id: 'K2' }, chatIds: many },
      chats: [{ campaignId: 'K1', idx: 2, state: 'sending', pollMsgId: 'M2', at: 1 }], status: { id: 'K1', status: 'done' } })
      .then(() => assert.unreachable('must fail'), () => undefined)
    t.failWrites(false)
    await a.campaigns.commit({ create: { campaign, chatIds } }).then(() => assert.unreachable('an id is unique'), () => undefined)
    const all = await a.campaigns.all()
    assert.equal(all.map((k) => [k.id, k.status, k.chats.map((c) => c.state).join()]), [['K0', 'running', 'queued'], ['K1', 'running', 'queued,queued,queued']])
    await t.store.addAccount('shop')
    assert.equal(await t.store.account('shop').campaigns.all(), [])
    await t.store.account('shop').campaigns.commit({ create: { campaign, chatIds: ['5@g.us'] } })
    assert.is((await a.campaigns.all()).find((k) => k.id === 'K1')!.chats.length, 3, 'the same id in another account is another campaign')
    await t.store.removeAccount('shop', false)
    assert.is((await t.store.account('shop').campaigns.all()).length, 1, 'kept when the account is only removed')
    await t.store.addAccount('shop')
    await t.store.removeAccount('shop', true)
    assert.equal(await t.store.account('shop').campaigns.all(), [], 'purged')
  })
  campaigns.run()

  const atomic = suite<{ t: StoreUnderTest; a: AccountStore }>(`${name}: webhook events commit with what they report`)
  atomic.before.each(async (ctx) => { ctx.t = await open(); ctx.a = ctx.t.store.account('default') })
  atomic.after.each(async (ctx) => { await ctx.t.close() })

  let eventNo = 0
  const event = (type: WebhookEventType): OutboxEvent => {
    const id = `msg_${String(++eventNo).padStart(26, '0')}`
    // One order key each: a claim hands out one event of a key at a time.
    return { id, account: 'default', type, orderKey: `${type}:${eventNo}`, createdAt: Date.now(), body: JSON.stringify({ type, data: { n: eventNo } }) }
  }

  atomic('a journal commit and a campaign commit write their webhook events with them, or neither', async ({ t, a }) => {
    await t.store.outbox.addEndpoint({ id: 'E', url: 'http://127.0.0.1:9/E', events: null, account: null, source: 'api', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
    const queued = async () => (await t.store.outbox.claim('E', 10, Date.now() + 1000)).map((d) => d.eventId)
    // Large enough to need new pages: SQLite's full disk refuses only growth.
    const big = 'x'.repeat(256 * 1024)
    t.failWrites(true)
    const lost = [event('poll.sent'), event('campaign.progress')]
    await a.votes.commit({ polls: [{ ...rec, question: big }], events: [lost[0]!] }).then(() => assert.unreachable('must fail'), () => undefined)
    await a.campaigns.commit({ create: { campaign: { ...campaign, question: big }, chatIds }, events: [lost[1]!] })
      .then(() => assert.unreachable('must fail'), () => undefined)
    t.failWrites(false)
    assert.equal([await a.votes.polls(), await a.campaigns.all(), await queued()], [[], [], []], 'nothing of either, events included')
    const kept = [event('poll.sent'), event('campaign.progress')]
    await a.votes.commit({ polls: [rec], events: [kept[0]!] })
    await a.campaigns.commit({ create: { campaign, chatIds }, events: [kept[1]!] })
    assert.equal(await queued(), kept.map((e) => e.id))
  })
  atomic.run()
}
