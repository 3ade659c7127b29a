import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pino } from 'pino'
import { pollVote, pollVoteRecord } from '../../core/webhooks/events.ts'
import { openDb, openMemoryDb, tx } from '../../store/sqlite/db.ts'
import { openSqliteStore } from '../../store/sqlite/index.ts'
import { CLAIM_SQL, createSqliteOutbox } from '../../store/sqlite/outbox.ts'
import { migrate } from '../../store/sqlite/schema.ts'

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const T0 = 1_750_000_000_000
const vote = (pollMsgId: string, at = T0) => pollVote({
  account: 'default', pollMsgId, voter: '15551110001@s.whatsapp.net', selected: ['Red'], previous: null,
  senderTimestampMs: at, results: { Red: 1 }, question: 'Colour?',
}, at)
const endpoint = { id: 'A', url: 'http://127.0.0.1:9/a', events: null, account: null, source: 'api' as const, secret: SECRET }

const sqlite = suite('createSqliteOutbox')

sqlite('appendEvents refuses to run outside a transaction (it must share the vote\'s)', async () => {
  const db = openMemoryDb()
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  assert.throws(() => outbox.appendEvents([vote('P1')]), /inside the transaction/)
  assert.equal(await outbox.backlog(), {})
  db.close()
})

sqlite('events stand or fall with the transaction they were appended in', async () => {
  const db = openMemoryDb()
  db.exec('CREATE TABLE votes (id INTEGER PRIMARY KEY)')
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  assert.throws(() => tx(db, () => {
    db.exec('INSERT INTO votes DEFAULT VALUES')
    outbox.appendEvents([vote('P1')])
    throw new Error('the vote batch failed')
  }), /vote batch failed/)
  assert.equal(await outbox.backlog(), {})
  assert.is((db.prepare('SELECT COUNT(*) AS n FROM outbox_event').get() as { n: number }).n, 0)
  tx(db, () => {
    db.exec('INSERT INTO votes DEFAULT VALUES')
    outbox.appendEvents([vote('P1')])
  })
  assert.equal(await outbox.backlog(), { A: 1 })
  db.close()
})

sqlite('pending deliveries survive a restart, and claims (in memory) do not hold them after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-outbox-'))
  try {
    let db = openDb(dir)
    let outbox = createSqliteOutbox(db)
    await outbox.addEndpoint(endpoint)
    const events = [vote('P1'), vote('P2')]
    tx(db, () => outbox.appendEvents(events))
    const [first] = await outbox.claim('A', 1, T0)
    await outbox.settle(first!.id, { status: 'delivered', at: T0 + 1, httpStatus: 200 })
    await outbox.claim('A', 1, T0 + 1)
    db.close()

    db = openDb(dir)
    outbox = createSqliteOutbox(db)
    assert.equal((await outbox.endpoints()).map((e) => e.id), ['A'])
    assert.is(await outbox.secretOf('A'), SECRET)
    const again = await outbox.claim('A', 10, T0 + 2)
    assert.equal(again.map((d) => d.event), [events[1]], 'the claimed-but-unsettled delivery is offered again')
    assert.is((await outbox.get(first!.id))!.status, 'delivered')
    db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

sqlite('poll.vote records batched before a crash are rendered after the restart, from the stored poll', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-outbox-'))
  const log = pino({ level: 'silent' })
  try {
    let store = openSqliteStore({ dataDir: dir, log })
    await store.outbox.addEndpoint(endpoint)
    const poll = { question: 'Colour?', options: ['Red', 'Blue'] }
    await store.account('default').votes.commit({ polls: [{ id: 'P1', chatId: '120363000000000001@g.us', ...poll, hashes: ['a', 'b'],
      selectableCount: 1, secret: new Uint8Array(32), timestamp: T0, status: 'sent' }] })
    const record = pollVoteRecord({ account: 'default', pollMsgId: 'P1', voter: '15551110001@s.whatsapp.net', selected: [1], previous: [0],
      senderTimestampMs: T0 - 1, counts: [0, 1], poll }, T0)
    await store.account('default').votes.commit({ events: [record] })
    assert.is((store.db.prepare('SELECT COUNT(*) AS n FROM outbox_batch').get() as { n: number }).n, 1, 'not fanned out yet')
    await store.close()

    store = openSqliteStore({ dataDir: dir, log })
    const [d] = await store.outbox.claim('A', 10, Date.now())
    assert.equal(d!.event, { id: record.id, account: 'default', type: 'poll.vote', orderKey: 'poll:P1', createdAt: T0,
      body: pollVote({ account: 'default', pollMsgId: 'P1', voter: '15551110001@s.whatsapp.net', selected: ['Blue'], previous: ['Red'],
        senderTimestampMs: T0 - 1, results: { Red: 0, Blue: 1 }, question: 'Colour?' }, T0).body })
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

sqlite('a batch row written before poll.vote records existed (every event with its body) is fanned out as it was', async () => {
  const db = openMemoryDb()
  await createSqliteOutbox(db).addEndpoint(endpoint)
  const events = [vote('P1'), vote('P2', T0 + 1)]
  const packed = events.map((e) => [e.id, e.account, e.type, e.orderKey, e.createdAt, e.body].join('\x1f')).join('\x1e')
  db.prepare('INSERT INTO outbox_batch (events) VALUES (?)').run([packed])
  // Left by the previous run: the next one's outbox fans it out.
  const outbox = createSqliteOutbox(db)
  assert.equal((await outbox.claim('A', 10, T0 + 1)).map((d) => d.event), events)
  db.close()
})

sqlite('the fan-out copies poll.vote records into event rows; the claim renders the body, and expand() (a purge) renders it into the row', async () => {
  const db = openMemoryDb()
  migrate(db)
  db.prepare(`INSERT INTO poll_record (id, account, chat_id, question, options, option_hashes, selectable_count, secret, created_at, status, updated_at)
    VALUES ('P1', 'default', 'c@g.us', 'Colour?', '["Red","Blue"]', '[]', 1, x'00', 0, 'sent', 0)`).run()
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  const poll = { question: 'Colour?', options: ['Red', 'Blue'] }
  const voter = (i: number) => `1555111000${i}@s.whatsapp.net`
  const records = [0, 1].map((i) => pollVoteRecord({ account: 'default', pollMsgId: 'P1', voter: voter(i), selected: [i], previous: null,
    senderTimestampMs: T0, counts: [1, i], poll }, T0 + i))
  tx(db, () => outbox.appendEvents(records))
  outbox.fanOut()
  const rows = () => db.prepare('SELECT body, vote FROM outbox_event ORDER BY seq').all() as { body: string; vote: string | null }[]
  assert.equal(rows(), records.map((r) => ({ body: '', vote: r.vote })), 'nothing rendered by the fan-out')
  const bodies = [0, 1].map((i) => pollVote({ account: 'default', pollMsgId: 'P1', voter: voter(i), selected: [poll.options[i]!],
    previous: null, senderTimestampMs: T0, results: { Red: 1, Blue: i }, question: 'Colour?' }, T0 + i).body)
  const [first] = await outbox.claim('A', 10, T0 + 5)
  assert.is(first!.event.body, bodies[0])
  await outbox.settle(first!.id, { status: 'retry', at: T0 + 6, nextAt: T0 + 7, error: 'HTTP 500' })
  outbox.expand()
  assert.equal(rows(), bodies.map((body) => ({ body, vote: null })))
  db.exec(`DELETE FROM poll_record`)
  const again = await outbox.claim('A', 10, T0 + 7)
  assert.equal(again.map((d) => d.event.body), [bodies[0]], 'the same bytes on the retry, from the row, the poll gone')
  db.close()
})

sqlite('a file whose outbox_event predates records keeps its pending deliveries through the migration', async () => {
  const db = openMemoryDb()
  // The layout before: no `vote` column; one event with a pending delivery.
  db.exec(`CREATE TABLE outbox_event (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, account TEXT NOT NULL, type TEXT NOT NULL,
      order_key TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE webhook_delivery (id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, endpoint_id TEXT NOT NULL, order_key TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')), attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL, last_error TEXT, last_status INTEGER, delivered_at INTEGER);`)
  const old = vote('P1')
  db.prepare('INSERT INTO outbox_event (seq, id, account, type, order_key, body, created_at) VALUES (1, ?, ?, ?, ?, ?, ?)')
    .run(old.id, old.account, old.type, old.orderKey, old.body, old.createdAt)
  db.prepare(`INSERT INTO webhook_delivery (event_seq, endpoint_id, order_key, status, next_at, created_at) VALUES (1, 'A', ?, 'pending', ?, ?)`)
    .run(old.orderKey, T0, T0)
  migrate(db)
  migrate(db)
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  assert.equal(await outbox.backlog(), { A: 1 })
  const fresh = vote('P2', T0 + 1)
  tx(db, () => outbox.appendEvents([fresh]))
  assert.equal((await outbox.claim('A', 10, T0 + 1)).map((d) => d.event), [old, fresh])
  db.close()
})

sqlite('a claim fans out a slice of the batches, only when it comes up short; every event still goes, each poll\'s in commit order', async () => {
  const db = openMemoryDb()
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  const events = Array.from({ length: 1000 }, (_, i) => vote(`P${i % 30}`, T0 + i))
  for (let i = 0; i < events.length; i += 100) tx(db, () => outbox.appendEvents(events.slice(i, i + 100)))
  const batchesLeft = () => (db.prepare('SELECT COUNT(*) AS n FROM outbox_batch').get() as { n: number }).n
  const first = await outbox.claim('A', 4, T0 + 1000)
  assert.equal(first.map((d) => d.event), events.slice(0, 4))
  assert.ok(batchesLeft() >= 6 && batchesLeft() < 10, `${batchesLeft()} of 10 batches left`)
  assert.equal(await outbox.backlog(), { A: 1000 }, 'the backlog counts what is still batched')
  const fanned = batchesLeft()
  const more = await outbox.claim('A', 4, T0 + 1000)
  assert.equal(more.map((d) => d.event), events.slice(4, 8))
  assert.is(batchesLeft(), fanned, 'a claim that finds enough fans out nothing')
  const sent = [...first, ...more]
  for (const d of sent) void outbox.settle(d.id, { status: 'delivered', at: T0 + 1001 })
  await outbox.flush()
  assert.equal(await outbox.backlog(), { A: 992 })
  const later = vote('P0', T0 + 2000)
  tx(db, () => outbox.appendEvents([later]))
  assert.equal(await outbox.backlog(), { A: 993 }, 'a batch appended since is counted too')
  events.push(later)
  for (let round = 0; round < 1000 && sent.length < events.length; round++) {
    for (const d of sent.slice(-8)) void outbox.settle(d.id, { status: 'delivered', at: T0 + 1001 })
    await outbox.flush()
    sent.push(...await outbox.claim('A', 8, T0 + 2000))
  }
  assert.is(sent.length, events.length)
  assert.is(batchesLeft(), 0)
  for (let p = 0; p < 30; p++) {
    assert.equal(sent.filter((d) => d.event.orderKey === `poll:P${p}`).map((d) => d.eventId),
      events.filter((e) => e.orderKey === `poll:P${p}`).map((e) => e.id))
  }
  db.close()
})

sqlite('settles finishing in one turn are committed together, and flush() waits for them', async () => {
  const db = openMemoryDb()
  const outbox = createSqliteOutbox(db)
  await outbox.addEndpoint(endpoint)
  tx(db, () => outbox.appendEvents(Array.from({ length: 50 }, (_, i) => vote(`P${i}`))))
  const claimed = await outbox.claim('A', 50, T0)
  let commits = 0
  const exec = db.exec.bind(db)
  db.exec = ((sql: string) => { if (sql === 'COMMIT') commits++; return exec(sql) }) as typeof db.exec
  for (const d of claimed) void outbox.settle(d.id, { status: 'delivered', at: T0 + 1 })
  await outbox.flush()
  assert.is(commits, 1)
  assert.equal(await outbox.backlog(), {})
  db.close()
})

sqlite('the vote path pays for one partial index, and the claim seeks in it', () => {
  const db = openMemoryDb()
  createSqliteOutbox(db)
  const indexes = db.prepare(`SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('outbox_event', 'webhook_delivery')`).all() as { name: string; sql: string | null }[]
  assert.equal(indexes.map((i) => i.name), ['webhook_delivery_pending'])
  assert.match(indexes[0]!.sql ?? '', /WHERE status = 'pending'/)
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${CLAIM_SQL}`).all('A', 1, 1) as { detail: string }[]).map((r) => r.detail)
  // Every step of the skip-scan is a seek in the pending index; no step scans a table.
  const searches = plan.filter((d) => /^SEARCH webhook_delivery USING COVERING INDEX webhook_delivery_pending/.test(d))
  assert.is(searches.length, 3, plan.join('; '))
  assert.ok(plan.some((d) => /order_key>\?/.test(d)), plan.join('; '))
  assert.not.ok(plan.some((d) => /^SCAN (webhook_delivery|d|e)\b/.test(d)), plan.join('; '))
  db.close()
})

sqlite('prune works through many chunks and forgets events no delivery needs', async () => {
  const db = openMemoryDb()
  const outbox = createSqliteOutbox(db, { pruneChunk: 7 })
  await outbox.addEndpoint(endpoint)
  tx(db, () => outbox.appendEvents(Array.from({ length: 30 }, (_, i) => vote(`P${i}`, T0 + i))))
  for (const d of await outbox.claim('A', 30, T0 + 30)) void outbox.settle(d.id, { status: 'delivered', at: T0 + 31 })
  await outbox.flush()
  assert.is(await outbox.prune(T0 + 20), 20)
  assert.is((db.prepare('SELECT COUNT(*) AS n FROM outbox_event').get() as { n: number }).n, 10)
  assert.is(await outbox.prune(T0 + 100), 10)
  assert.is((db.prepare('SELECT COUNT(*) AS n FROM outbox_event').get() as { n: number }).n, 0)
  db.close()
})

sqlite.run()
