import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pino } from 'pino'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys'
import { openPostgresStore, type PostgresStore } from '../../store/postgres/index.ts'
import { MIGRATIONS } from '../../store/postgres/schema.ts'
import { storeContract } from './contract.ts'
import { dropSchema, failWritesSync, newSchema, pgCluster, requirePostgres } from './pg-harness.ts'

const log = pino({ level: 'silent' })

// No PostgreSQL here is a failure that says what to install, not a skipped file.
requirePostgres()
const cluster = pgCluster()

// First: the cluster starts (a failure here is reported as itself, not as a failed test set-up).
const setup = suite('PostgreSQL store: server')
setup('a PostgreSQL server to test against', async () => {
  const url = await cluster.url()
  assert.match(url, /^postgres(ql)?:\/\//)
})
setup.run()

storeContract('PostgreSQL store', async () => {
  const url = await cluster.url()
  const schema = newSchema()
  const open = () => openPostgresStore({ url, log, schema, poolSize: 4 })
  let store: PostgresStore = await open()
  return {
    get store() { return store },
    async reopen() {
      await store.close()
      return (store = await open())
    },
    failWrites(on) { failWritesSync(cluster, url, schema, on) },
    async close() {
      await store.close()
      await dropSchema(url, schema)
    },
  }
})

const pgOnly = suite<{ url: string; schema: string; stores: PostgresStore[] }>('PostgreSQL store: specifics')
pgOnly.before.each(async (ctx) => { ctx.url = await cluster.url(); ctx.schema = newSchema(); ctx.stores = [] })
pgOnly.after.each(async (ctx) => {
  for (const s of ctx.stores) await s.close()
  await dropSchema(ctx.url, ctx.schema)
})
const openIn = async (ctx: { url: string; schema: string; stores: PostgresStore[] }) => {
  const s = await openPostgresStore({ url: ctx.url, log, schema: ctx.schema, poolSize: 4 })
  ctx.stores.push(s)
  return s
}

pgOnly('migrations run once and are recorded; every per-account table carries account', async (ctx) => {
  const a = await openIn(ctx)
  await openIn(ctx)
  const { rows } = await a.pool.query(`SELECT version, name FROM "${ctx.schema}".schema_migrations`)
  assert.equal(rows, MIGRATIONS.map(({ version, name }) => ({ version, name })))
  const { rows: tables } = await a.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.columns
    WHERE table_schema = $1 AND column_name = 'account' ORDER BY 1`, [ctx.schema])
  assert.equal(tables.map((t) => t.table_name), ['auth_creds', 'auth_keys', 'campaign', 'campaign_chat', 'chats', 'outbox_event', 'poll_record', 'vote_journal', 'vote_person', 'webhook_endpoint'])
  assert.throws(() => a.account('../etc'), /invalid account id/)
})

pgOnly('journal numbers are per account and continue after the highest stored at open', async (ctx) => {
  const s = await openIn(ctx)
  const raw = { pollId: 'P', chatId: 'c@g.us', fromMe: false, senderTimestampMs: 1, encPayload: new Uint8Array([1]), encIv: new Uint8Array(12),
    source: 'notify' as const, receivedAt: 1 }
  const put = (acc: string, seq: number, on = s) => on.account(acc).votes.commit({ votes: [{ seq, hash: 'h', raw, derived: { state: 'pending', reason: 'no_key' }, confirmed: true }] })
  const [a1, a2] = [s.account('default').votes.nextSeq(), s.account('default').votes.nextSeq()]
  assert.equal([a1, a2], [1, 2])
  await put('default', a1)
  await put('default', a2)
  assert.is(s.account('shop').votes.nextSeq(), 1, 'another account has its own numbers')
  await put('shop', 1)
  await put('shop', 7)
  await s.close()
  const again = await openIn(ctx)
  assert.is(again.account('default').votes.nextSeq(), 3)
  assert.is(again.account('shop').votes.nextSeq(), 8)
  assert.is(again.account('new').votes.nextSeq(), 1)
  await put('default', 1, again).then(() => assert.unreachable('the same number twice in one account'),
    (err) => assert.is((err as { code?: string }).code, '23505', 'unique violation'))
  // Taken over from a process that wrote more meanwhile.
  const other = await openIn(ctx)
  await other.account('default').votes.commit({ votes: [{ seq: 50, hash: 'h', raw, derived: { state: 'pending' }, confirmed: true }] })
  await again.resyncSeq('default')
  assert.is(again.account('default').votes.nextSeq(), 51)
})

pgOnly('a journal commit with webhook events writes them in its transaction, and announces them after it', async (ctx) => {
  const s = await openIn(ctx)
  await s.outbox.addEndpoint({ id: 'A', url: 'http://127.0.0.1:9/a', events: null, account: null, source: 'api', secret: 'whsec_x' })
  let woken = 0
  s.outbox.onAppend(() => { woken++ })
  const event = { id: 'msg_1', account: 'default', type: 'poll.vote' as const, orderKey: 'poll:P1', body: '{}', createdAt: 1 }
  const rec = { id: 'P1', chatId: 'c@g.us', question: 'Q', options: ['A'], hashes: ['h'], selectableCount: 1, secret: new Uint8Array(32), timestamp: 1, status: 'sent' as const }
  await s.account('default').votes.commit({ polls: [rec], events: [event] })
  await Promise.resolve()
  assert.is(woken, 1)
  assert.equal(await s.outbox.backlog(), { A: 1 })
  // A failing commit (the poll exists) leaves no event behind.
  await s.account('default').votes.commit({ polls: [rec], events: [{ ...event, id: 'msg_2' }] }).then(() => assert.unreachable(), () => undefined)
  assert.equal(await s.outbox.backlog(), { A: 1 })
  assert.throws(() => s.outbox.appendEvents([event]), /VoteJournal\.commit/)
})

pgOnly('health: a failed write is reported, and a background probe clears it once writes work', async (ctx) => {
  const s = await openIn(ctx)
  failWritesSync(cluster, ctx.url, ctx.schema, true)
  await s.account('default').chats.upsert([{ id: '1@s.whatsapp.net', name: 'A' }]).then(() => assert.unreachable(), (err) => {
    assert.is((err as { code?: string }).code, '53100', 'disk_full')
  })
  assert.not.ok(s.health.ok())
  failWritesSync(cluster, ctx.url, ctx.schema, false)
  const health = s.health as typeof s.health & { probe(): Promise<boolean> }
  assert.ok(await health.probe())
  assert.ok(s.health.ok())
})

pgOnly('two stores on one database: an endpoint added by one is wanted by the other after it looks', async (ctx) => {
  const a = await openIn(ctx)
  const b = await openIn(ctx)
  await a.outbox.addEndpoint({ id: 'A', url: 'http://127.0.0.1:9/a', events: ['poll.vote'], account: 'shop', source: 'api', secret: 'whsec_x' })
  // Fanned out against the table: b's commit reaches the endpoint before b has looked.
  await b.account('shop').votes.commit({ events: [{ id: 'msg_9', account: 'shop', type: 'poll.vote', orderKey: 'poll:X', body: '{}', createdAt: 5 }] })
  assert.equal(await a.outbox.backlog(), { A: 1 })
  assert.not.ok(b.outbox.wanted('poll.vote', 'shop'), 'wanted() is a cache')
  assert.equal((await b.outbox.endpoints()).map((e) => e.id), ['A'])
  assert.ok(b.outbox.wanted('poll.vote', 'shop'))
  assert.not.ok(b.outbox.wanted('poll.vote', 'default'))
})

pgOnly('two processes claiming at once never get the same delivery; leases are rows, seen by both', async (ctx) => {
  const a = await openIn(ctx)
  const b = await openIn(ctx)
  await a.outbox.addEndpoint({ id: 'A', url: 'http://127.0.0.1:9/a', events: null, account: null, source: 'api', secret: 'whsec_x' })
  const events = Array.from({ length: 60 }, (_, i) => ({ id: `msg_${i}`, account: 'default', type: 'poll.vote' as const,
    orderKey: `poll:${i % 40}`, body: '{}', createdAt: 1 }))
  await a.account('default').votes.commit({ events })
  const seen: string[] = []
  for (let round = 0; round < 10; round++) {
    const got = await Promise.all([a, b, a, b, a, b].map((s) => s.outbox.claim('A', 3, 10)))
    const ids = got.flat().map((d) => d.id)
    if (!ids.length) break
    seen.push(...ids)
    // Half of them are sent and settled (by the other process, as a takeover would), half stay leased.
    const settled = got.flat().filter((_, i) => i % 2 === 0)
    for (const d of settled) await (Number(d.id) % 2 ? a : b).outbox.settle(d.id, { status: 'delivered', at: 11 })
  }
  assert.is(new Set(seen).size, seen.length, 'no delivery claimed twice')
  const pending = (await a.outbox.list({ status: 'pending', limit: 100 })).length
  assert.ok(seen.length >= 40, `every head claimed once (${seen.length})`)
  assert.equal(await b.outbox.claim('A', 100, 10), [], 'the rest are leased or behind a leased head')
  const expired = await b.outbox.claim('A', 100, 10 + 120_000)
  assert.ok(expired.length > 0 && expired.length <= pending, 'leases that ran out are free for any process')
})

pgOnly('deliveries of one order key are numbered in commit order: a second writer waits for the first', async (ctx) => {
  const a = await openIn(ctx)
  const b = await openIn(ctx)
  await a.outbox.addEndpoint({ id: 'A', url: 'http://127.0.0.1:9/a', events: null, account: null, source: 'api', secret: 'whsec_x' })
  const ev = (id: string) => ({ id, account: 'default', type: 'poll.vote' as const, orderKey: 'poll:K', body: '{}', createdAt: 1 })
  const first = await a.pool.connect()
  let second: Promise<void> | undefined
  try {
    await first.query('BEGIN')
    await a.outbox.appendEventsIn(first, [ev('msg_first')])
    let secondDone = false
    second = b.account('shop').votes.commit({ events: [ev('msg_second')] }).then(() => { secondDone = true })
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.not.ok(secondDone, 'the second commit waits while the first holds the order key')
    assert.equal(await b.outbox.claim('A', 10, 5), [], 'nothing of the key is visible yet')
    await first.query('COMMIT')
  } finally {
    first.release()
    await second
  }
  const [head] = await b.outbox.claim('A', 10, 5)
  assert.is(head?.eventId, 'msg_first')
  await b.outbox.settle(head!.id, { status: 'delivered', at: 6 })
  assert.equal((await a.outbox.claim('A', 10, 6)).map((d) => d.eventId), ['msg_second'])
})

pgOnly('connections the server drops are replaced: no crash, the next write works', async (ctx) => {
  const s = await openIn(ctx)
  const chats = s.account('default').chats
  // This store's own connections (three at once: three of them), and only those.
  const pids = (await Promise.all([1, 2, 3].map(() => s.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)'))))
    .map((r) => r.rows[0]!.pid)
  const admin = await openIn(ctx)
  const { rows } = await admin.pool.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM unnest($1::int[]) AS pid', [pids])
  assert.is(rows[0]!.n, 3)
  await new Promise((resolve) => setTimeout(resolve, 50))
  await chats.upsert([{ id: '1@s.whatsapp.net', name: 'A' }])
  assert.equal(await chats.all(), [{ id: '1@s.whatsapp.net', name: 'A' }])
  assert.ok(s.health.ok())
})

pgOnly('a LID↔PN pair is reported after its transaction committed (another connection sees it)', async (ctx) => {
  const s = await openIn(ctx)
  const other = await openIn(ctx)
  const seen: Array<Promise<string | null>> = []
  s.account('default').auth.onLidMapping(() => seen.push(other.account('default').auth.getLIDForPN('15551110001@s.whatsapp.net')))
  await (await s.account('default').auth.load()).keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
  assert.equal(await Promise.all(seen), ['80000000001@lid'])
})

pgOnly('Signal sessions and sender keys through Baileys: a group message after a later one still decrypts', async (ctx) => {
  const repo = async (s: PostgresStore, account: string) => {
    const state = await s.account(account).auth.load()
    const keys = addTransactionCapability(state.keys, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
    return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: state.creds, keys }, log, async () => [])
  }
  const s = await openIn(ctx)
  const group = '120363000000000001@g.us'
  const author = '80000000001@lid'
  const sender = await repo(s, 'sender')
  const receiver = await repo(s, 'receiver')
  const sent: Array<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }> = []
  for (const text of ['one', 'two', 'three']) sent.push(await sender.encryptGroupMessage({ group, meId: author, data: Buffer.from(text) }))
  await receiver.processSenderKeyDistributionMessage({
    authorJid: author, item: { groupId: group, axolotlSenderKeyDistributionMessage: sent[0]!.senderKeyDistributionMessage },
  })
  const open = async (i: number) => Buffer.from(await receiver.decryptGroupMessage({ group, authorJid: author, msg: sent[i]!.ciphertext })).toString()
  assert.is(await open(2), 'three')
  assert.is(await open(0), 'one')
  assert.is(await open(1), 'two')
})

pgOnly.run()

const teardown = suite('PostgreSQL store: server stops')
teardown('the cluster of this file is removed', async () => { await cluster.stop() })
teardown.run()
