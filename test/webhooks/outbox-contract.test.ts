import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pollVote, pollVoteRecord, type PollVoteChange } from '../../core/webhooks/events.ts'
import { createMemoryOutbox } from '../../store/memory/outbox.ts'
import type { AppendedEvent, Outbox, OutboxEvent, PollTexts } from '../../store/outbox-port.ts'
import type { PollRecord } from '../../store/ports.ts'
import type { WebhookEventType } from '../../contract/webhooks.ts'
import { tx } from '../../store/sqlite/db.ts'
import { openSqliteStore } from '../../store/sqlite/index.ts'
import { pino } from 'pino'
import { tx as pgTx } from '../../store/postgres/db.ts'
import { openPostgresStore } from '../../store/postgres/index.ts'
import { dropSchema, newSchema, pgCluster, requirePostgres } from '../store/pg-harness.ts'

const T0 = 1_750_000_000_000
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

export interface Made {
  outbox: Outbox
  /** appendEvents as the vote engine calls it: inside its own transaction where there is one (awaited: PostgreSQL's is async) */
  append(events: AppendedEvent[]): void | Promise<void>
  /** stores a poll as the vote journal does (the durable outboxes render poll.vote records from it) */
  addPoll(account: string, id: string, poll: PollTexts): Promise<void>
  /** removes an account and everything it has, as DELETE /accounts/:id?purge=true does */
  purge(account: string): Promise<void>
  /** deletes a poll row behind the store's back (a hand-edited database); absent where nothing is stored */
  dropPoll?(account: string, id: string): Promise<void>
  clock: { t: number }
  close(): void | Promise<void>
}

export type Make = (opts: { leaseMs?: number }) => Made | Promise<Made>

let n = 0
const ev = (type: WebhookEventType, orderKey: string, createdAt: number, account = 'default'): OutboxEvent => {
  const id = `msg_${String(++n).padStart(26, '0')}`
  return { id, account, type, orderKey, createdAt, body: JSON.stringify({ type, timestamp: new Date(createdAt).toISOString(), data: { n } }) }
}
/** A poll as the journal stores it, with these texts. */
const pollRecord = (id: string, { question, options }: PollTexts): PollRecord => ({
  id, chatId: '120363000000000001@g.us', question, options: [...options], hashes: options.map((_, i) => `h${i}`),
  selectableCount: 0, secret: new Uint8Array(32), timestamp: T0, status: 'sent',
})

/** What pollVote was given for this change before records existed: texts, and results built as the engine built them. */
function pollVoteBefore(c: PollVoteChange, at: number): OutboxEvent {
  const texts = (sel: readonly number[]) => sel.map((i) => c.poll.options[i]!)
  const results: Record<string, number> = {}
  c.poll.options.forEach((o, i) => { results[o] = c.counts[i]! })
  return pollVote({ account: c.account, pollMsgId: c.pollMsgId, voter: c.voter, voterName: c.voterName, selected: texts(c.selected),
    previous: c.previous && texts(c.previous), senderTimestampMs: c.senderTimestampMs, results, question: c.poll.question }, at)
}

const ep = (id: string, over: Partial<{ events: WebhookEventType[] | null; account: string | null }> = {}) =>
  ({ id, url: `http://127.0.0.1:9/${id}`, events: null, account: null, source: 'api' as const, secret: SECRET, ...over })

/** The outbox port's behaviour, run once per implementation. */
export function outboxContract(name: string, make: Make) {
  const test = suite(`outbox contract: ${name}`)
  let m: Made
  test.before.each(async () => { m = await make({ leaseMs: 60_000 }) })
  test.after.each(async () => { await m.close() })

  test('appends one delivery per endpoint whose type and account filters match', async () => {
    await m.outbox.addEndpoint(ep('A'))
    await m.outbox.addEndpoint(ep('B', { events: ['poll.vote'] }))
    await m.outbox.addEndpoint(ep('C', { account: 'other' }))
    await m.append([ev('poll.sent', 'poll:1', T0), ev('poll.vote', 'poll:1', T0), ev('session.status', 'session', T0, 'other')])
    assert.equal(await m.outbox.backlog(), { A: 3, B: 1, C: 1 })
    const b = await m.outbox.list({ endpointId: 'B', limit: 10 })
    assert.equal(b.map((d) => [d.type, d.status, d.attempts, d.nextAt]), [['poll.vote', 'pending', 0, T0]])
    assert.equal((await m.outbox.list({ endpointId: 'C', limit: 10 })).map((d) => d.type), ['session.status'])
  })

  test('an event no endpoint wants is not kept, and a new endpoint gets only later events', async () => {
    await m.append([ev('poll.vote', 'poll:1', T0)])
    await m.outbox.addEndpoint(ep('A'))
    assert.equal(await m.outbox.list({ limit: 10 }), [])
    assert.equal(await m.outbox.claim('A', 10, T0 + 1), [])
    await m.append([ev('poll.vote', 'poll:1', T0 + 1)])
    assert.is((await m.outbox.list({ limit: 10 })).length, 1)
  })

  test('claim: due deliveries only, oldest first, at most limit, with the event', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const events = [ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:2', T0 + 10), ev('poll.vote', 'poll:3', T0 + 20)]
    await m.append(events)
    assert.equal(await m.outbox.claim('A', 10, T0 - 1), [], 'nothing is due before its event')
    const first = await m.outbox.claim('A', 2, T0 + 20)
    assert.equal(first.map((d) => d.eventId), [events[0]!.id, events[1]!.id])
    assert.equal(first[0]!.event, events[0])
    assert.is(first[0]!.endpointId, 'A')
    assert.equal((await m.outbox.claim('A', 10, T0 + 20)).map((d) => d.eventId), [events[2]!.id])
    assert.equal(await m.outbox.claim('B', 10, T0 + 20), [], 'another endpoint has nothing')
  })

  test('claim holds back a later event of one order key while an earlier one is pending', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const [e1, e2, e3] = [ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:1', T0 + 1), ev('poll.vote', 'poll:2', T0 + 2)]
    await m.append([e1!, e2!, e3!])
    const c1 = await m.outbox.claim('A', 10, T0 + 5)
    assert.equal(c1.map((d) => d.eventId), [e1!.id, e3!.id])
    await m.outbox.settle(c1[0]!.id, { status: 'retry', at: T0 + 6, nextAt: T0 + 5000, error: 'HTTP 500', httpStatus: 500 })
    await m.outbox.settle(c1[1]!.id, { status: 'delivered', at: T0 + 6, httpStatus: 200 })
    assert.equal(await m.outbox.claim('A', 10, T0 + 100), [], 'e2 waits for e1, which waits for its retry time')
    const c2 = await m.outbox.claim('A', 10, T0 + 5000)
    assert.equal(c2.map((d) => d.eventId), [e1!.id])
    assert.equal(await m.outbox.claim('A', 10, T0 + 5000), [], 'e2 still waits while e1 is in flight')
    await m.outbox.settle(c2[0]!.id, { status: 'delivered', at: T0 + 5001, httpStatus: 204 })
    assert.equal((await m.outbox.claim('A', 10, T0 + 5001)).map((d) => d.eventId), [e2!.id])
  })

  test('claim offers the head of each order key, oldest first whatever the keys sort like', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const events = [ev('poll.vote', 'poll:b', T0), ev('poll.vote', 'poll:a', T0), ev('poll.vote', 'poll:b', T0), ev('session.status', 'session', T0), ev('poll.vote', 'poll:a', T0)]
    await m.append(events)
    assert.equal((await m.outbox.claim('A', 1, T0)).map((d) => d.eventId), [events[0]!.id])
    assert.equal((await m.outbox.claim('A', 10, T0)).map((d) => d.eventId), [events[1]!.id, events[3]!.id])
  })

  test('a failed delivery no longer holds back its order key', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const [e1, e2] = [ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:1', T0 + 1)]
    await m.append([e1!, e2!])
    const [c] = await m.outbox.claim('A', 10, T0 + 1)
    await m.outbox.settle(c!.id, { status: 'failed', at: T0 + 2, error: 'gave up' })
    assert.equal((await m.outbox.claim('A', 10, T0 + 2)).map((d) => d.eventId), [e2!.id])
  })

  test('order is per endpoint: a pending delivery to A does not hold back B', async () => {
    await m.outbox.addEndpoint(ep('A'))
    await m.outbox.addEndpoint(ep('B'))
    const [e1, e2] = [ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:1', T0 + 1)]
    await m.append([e1!, e2!])
    const [a] = await m.outbox.claim('A', 10, T0 + 1)
    await m.outbox.settle(a!.id, { status: 'retry', at: T0 + 2, nextAt: T0 + 99_000, error: 'down' })
    const [b1] = await m.outbox.claim('B', 10, T0 + 2)
    assert.is(b1!.eventId, e1!.id)
    await m.outbox.settle(b1!.id, { status: 'delivered', at: T0 + 3 })
    assert.equal((await m.outbox.claim('B', 10, T0 + 3)).map((d) => d.eventId), [e2!.id])
  })

  test('a claimed delivery is not offered again until settled, or until its lease runs out', async () => {
    await m.close()
    m = await make({ leaseMs: 1000 })
    await m.outbox.addEndpoint(ep('A'))
    await m.append([ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:2', T0)])
    const [c] = await m.outbox.claim('A', 1, T0)
    const [other] = await m.outbox.claim('A', 1, T0)
    assert.is.not(other!.id, c!.id)
    assert.equal(await m.outbox.claim('A', 10, T0 + 999), [])
    assert.equal((await m.outbox.claim('A', 10, T0 + 1000)).map((d) => d.id), [c!.id, other!.id], 'leases ran out (a send that never settled)')
  })

  test('settle records attempts, status, last error and answer, and the endpoint health', async () => {
    await m.outbox.addEndpoint(ep('A'))
    await m.append([ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:2', T0)])
    assert.equal(await m.outbox.health('A'), { lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0 })
    const [d1, d2] = await m.outbox.claim('A', 2, T0)
    await m.outbox.settle(d1!.id, { status: 'retry', at: T0 + 1, nextAt: T0 + 5000, error: 'HTTP 500: oops', httpStatus: 500 })
    let got = await m.outbox.get(d1!.id)
    assert.equal([got!.status, got!.attempts, got!.nextAt, got!.lastError, got!.lastStatus], ['pending', 1, T0 + 5000, 'HTTP 500: oops', 500])
    await m.outbox.settle(d2!.id, { status: 'retry', at: T0 + 2, nextAt: T0 + 5000, error: 'timeout' })
    assert.equal(await m.outbox.health('A'), { lastSuccessAt: null, lastFailureAt: T0 + 2, lastError: 'timeout', consecutiveFailures: 2 })
    const [again] = await m.outbox.claim('A', 1, T0 + 5000)
    assert.is(again!.attempts, 1)
    await m.outbox.settle(again!.id, { status: 'failed', at: T0 + 5001, error: 'HTTP 404', httpStatus: 404 })
    got = await m.outbox.get(d1!.id)
    assert.equal([got!.status, got!.attempts, got!.lastError, got!.lastStatus], ['failed', 2, 'HTTP 404', 404])
    const [last] = await m.outbox.claim('A', 1, T0 + 5001)
    await m.outbox.settle(last!.id, { status: 'delivered', at: T0 + 5002, httpStatus: 200 })
    got = await m.outbox.get(d2!.id)
    assert.equal([got!.status, got!.attempts, got!.deliveredAt, got!.lastStatus], ['delivered', 2, T0 + 5002, 200])
    assert.equal(await m.outbox.health('A'), { lastSuccessAt: T0 + 5002, lastFailureAt: T0 + 5001, lastError: 'HTTP 404', consecutiveFailures: 0 })
    assert.is(await m.outbox.health('nope'), undefined)
  })

  test('settle of a delivery that is gone does nothing', async () => {
    await m.outbox.settle('987654', { status: 'delivered', at: T0 })
    assert.equal(await m.outbox.list({ limit: 10 }), [])
  })

  test('list filters by status and endpoint, newest first, limited', async () => {
    await m.outbox.addEndpoint(ep('A'))
    await m.outbox.addEndpoint(ep('B'))
    await m.append([ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:2', T0 + 1), ev('poll.vote', 'poll:3', T0 + 2)])
    const claimed = await m.outbox.claim('A', 3, T0 + 2)
    await m.outbox.settle(claimed[0]!.id, { status: 'failed', at: T0 + 3, error: 'x' })
    await m.outbox.settle(claimed[2]!.id, { status: 'delivered', at: T0 + 3 })
    const all = await m.outbox.list({ limit: 100 })
    assert.is(all.length, 6)
    assert.ok(all.every((d, i) => i === 0 || all[i - 1]!.createdAt >= d.createdAt), 'newest first')
    assert.equal((await m.outbox.list({ status: 'failed', limit: 10 })).map((d) => d.id), [claimed[0]!.id])
    assert.equal((await m.outbox.list({ status: 'delivered', limit: 10 })).map((d) => d.id), [claimed[2]!.id])
    assert.is((await m.outbox.list({ status: 'pending', limit: 10 })).length, 4)
    assert.is((await m.outbox.list({ status: 'pending', endpointId: 'A', limit: 10 })).length, 1)
    assert.is((await m.outbox.list({ endpointId: 'B', limit: 2 })).length, 2)
    const one = (await m.outbox.list({ endpointId: 'A', status: 'failed', limit: 1 }))[0]!
    assert.equal(Object.keys(one).sort(), ['attempts', 'createdAt', 'endpointId', 'eventId', 'id', 'lastError', 'nextAt', 'status', 'type'])
  })

  test('retry makes a failed delivery due now with its attempts kept; unknown ids are false', async () => {
    await m.outbox.addEndpoint(ep('A'))
    await m.append([ev('poll.vote', 'poll:1', T0)])
    const [d] = await m.outbox.claim('A', 1, T0)
    await m.outbox.settle(d!.id, { status: 'failed', at: T0 + 1, error: 'gave up' })
    m.clock.t = T0 + 86_400_000
    assert.ok(await m.outbox.retry(d!.id))
    const got = await m.outbox.get(d!.id)
    assert.equal([got!.status, got!.attempts, got!.nextAt], ['pending', 1, T0 + 86_400_000])
    assert.equal((await m.outbox.claim('A', 1, m.clock.t)).map((c) => c.id), [d!.id])
    assert.is(await m.outbox.retry('424242'), false)
    assert.is(await m.outbox.retry('not-an-id'), false)
    assert.is(await m.outbox.get('not-an-id'), undefined)
  })

  test('endpoints: listed without secrets; secretOf, setSecret; removal takes the deliveries along', async () => {
    const added = await m.outbox.addEndpoint(ep('A', { events: ['poll.vote', 'poll.sent'] }))
    assert.equal(added, { id: 'A', url: 'http://127.0.0.1:9/A', events: ['poll.vote', 'poll.sent'], account: null, source: 'api', createdAt: m.clock.t })
    await m.outbox.addEndpoint(ep('B'))
    const list = await m.outbox.endpoints()
    assert.equal(list.map((e) => e.id), ['A', 'B'])
    assert.not.ok(JSON.stringify(list).includes(SECRET), 'no secret in the list')
    assert.is(await m.outbox.secretOf('A'), SECRET)
    assert.ok(await m.outbox.setSecret('A', 'whsec_other'))
    assert.is(await m.outbox.secretOf('A'), 'whsec_other')
    assert.is(await m.outbox.setSecret('Z', 'whsec_x'), false)
    await m.append([ev('poll.vote', 'poll:1', T0)])
    await m.outbox.claim('A', 1, T0)
    assert.ok(await m.outbox.removeEndpoint('A'))
    assert.is(await m.outbox.removeEndpoint('A'), false)
    assert.equal((await m.outbox.endpoints()).map((e) => e.id), ['B'])
    assert.equal(await m.outbox.backlog(), { B: 1 })
    assert.equal((await m.outbox.list({ limit: 10 })).map((d) => d.endpointId), ['B'])
    assert.is(await m.outbox.secretOf('A'), undefined)
    await m.append([ev('poll.vote', 'poll:1', T0 + 1)])
    assert.equal(await m.outbox.backlog(), { B: 2 }, 'a removed endpoint gets nothing new')
  })

  // Each change on a poll of its own, so every event heads its order key and is claimed at once.
  const changes: Array<{ change: PollVoteChange; at: number }> = [
    { at: T0, change: { account: 'default', pollMsgId: 'PINT', voter: '15551110001@s.whatsapp.net', selected: [0, 2], previous: null,
      senderTimestampMs: T0 - 5, counts: [3, 0, 7, 1, 2, 4], poll: { question: 'Which number?', options: ['42', 'Red', '1', '007', '-1', '1.5'] } } },
    { at: T0, change: { account: 'default', pollMsgId: 'PUNI', voter: '8000000000001@lid', voterName: 'Zoë 🦊 "Z" \\ \u001e\u001f\n', selected: [3], previous: [1],
      senderTimestampMs: T0 - 4, counts: [0, 1, 0, 5], poll: { question: '¿Qué color? 🎨 "quoted" \\ \t', options: ['Rojo 🔴', 'Azul', 'Ünïcödé\nline', 'emoji 👍🏽'] } } },
    { at: T0 + 1, change: { account: 'shop', pollMsgId: 'PRET', voter: '15551110002@s.whatsapp.net', voterName: '', selected: [], previous: [0, 1],
      senderTimestampMs: T0 - 3, counts: [0, 0], poll: { question: 'Retract?', options: ['Yes', 'No'] } } },
    { at: T0 + 1, change: { account: 'default', pollMsgId: 'PDUP', voter: '15551110003@s.whatsapp.net', selected: [1], previous: null,
      senderTimestampMs: T0 - 2, counts: [2, 1, 0], poll: { question: 'Twice?', options: ['A', 'A', '__proto__'] } } },
    { at: T0 + 2, change: { account: 'default', pollMsgId: 'P12', voter: '15551110004@s.whatsapp.net', voterName: 'Ann', selected: [11], previous: [0],
      senderTimestampMs: T0 - 1, counts: Array.from({ length: 12 }, (_, i) => i * 1000), poll: { question: 'Twelve', options: Array.from({ length: 12 }, (_, i) => `o${12 - i}`) } } },
  ]

  test('a poll.vote record is claimed with the body pollVote builds for the same change, byte for byte', async () => {
    await m.outbox.addEndpoint(ep('A'))
    for (const { change } of changes) await m.addPoll(change.account, change.pollMsgId, change.poll)
    const records = changes.map(({ change, at }) => pollVoteRecord(change, at))
    const plain = ev('session.status', 'session', T0 + 1, 'shop')
    // One batch, as a vote commit writes it: records of two accounts and times, an event with its body among them.
    await m.append([...records.slice(0, 3), plain, ...records.slice(3)])
    const claimed = await m.outbox.claim('A', 10, T0 + 10)
    assert.equal(claimed.map((d) => d.eventId).sort(), [...records.map((r) => r.id), plain.id].sort())
    const byId = new Map(claimed.map((d) => [d.eventId, d.event]))
    assert.equal(byId.get(plain.id), plain)
    changes.forEach(({ change, at }, i) => {
      const before = pollVoteBefore(change, at)
      const got = byId.get(records[i]!.id)!
      assert.is(got.body, before.body, change.pollMsgId)
      assert.equal(got, { ...before, id: records[i]!.id })
    })
    const ints = JSON.parse(byId.get(records[0]!.id)!.body)
    assert.equal(Object.keys(ints.data.results), ['1', '42', 'Red', '007', '-1', '1.5'], 'integer-like texts first, as JSON.stringify puts them')
    assert.equal([ints.data.selected, ints.data.previous, 'voterName' in ints.data], [['42', '1'], null, false])
    const retracted = JSON.parse(byId.get(records[2]!.id)!.body).data
    assert.equal([retracted.selected, retracted.previous, 'voterName' in retracted], [[], ['Yes', 'No'], false])
    assert.is(JSON.parse(byId.get(records[1]!.id)!.body).data.voterName, 'Zoë 🦊 "Z" \\ \u001e\u001f\n')
    // A retry carries the same bytes.
    await m.outbox.settle(claimed[0]!.id, { status: 'retry', at: T0 + 11, nextAt: T0 + 20, error: 'HTTP 500' })
    const [again] = await m.outbox.claim('A', 1, T0 + 20)
    assert.equal(again!.event, claimed[0]!.event)
  })

  test('purging the account keeps its poll.vote events deliverable, with their bodies', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const { change, at } = changes[2]!
    await m.addPoll(change.account, change.pollMsgId, change.poll)
    const record = pollVoteRecord(change, at)
    await m.append([record])
    await m.purge(change.account)
    const [d] = await m.outbox.claim('A', 10, T0 + 10)
    assert.equal(d!.event, { ...pollVoteBefore(change, at), id: record.id })
  })

  test('a record whose poll is gone is not sent: its delivery is failed, saying why, and the others go on', async () => {
    if (!m.dropPoll) return
    await m.outbox.addEndpoint(ep('A'))
    const [one, two] = [changes[0]!, changes[3]!]
    for (const { change } of [one, two]) await m.addPoll(change.account, change.pollMsgId, change.poll)
    const records = [pollVoteRecord(one.change, one.at), pollVoteRecord(two.change, two.at)]
    await m.append(records)
    await m.dropPoll(one.change.account, one.change.pollMsgId)
    const claimed = await m.outbox.claim('A', 10, T0 + 10)
    assert.equal(claimed.map((d) => d.eventId), [records[1]!.id])
    const [failed] = await m.outbox.list({ status: 'failed', limit: 10 })
    assert.equal([failed!.eventId, failed!.lastError], [records[0]!.id, `poll PINT of account default is not stored: the poll.vote body cannot be rendered`])
  })

  test('prune drops settled deliveries older than the bound and keeps pending ones sendable', async () => {
    await m.outbox.addEndpoint(ep('A'))
    const events = [ev('poll.vote', 'poll:1', T0), ev('poll.vote', 'poll:2', T0 + 1), ev('poll.vote', 'poll:3', T0 + 2), ev('poll.vote', 'poll:4', T0 + 100)]
    await m.append(events)
    const claimed = await m.outbox.claim('A', 4, T0 + 100)
    await m.outbox.settle(claimed[0]!.id, { status: 'delivered', at: T0 + 100 })
    await m.outbox.settle(claimed[1]!.id, { status: 'retry', at: T0 + 100, nextAt: T0 + 200, error: 'x' })
    await m.outbox.settle(claimed[2]!.id, { status: 'failed', at: T0 + 100, error: 'x' })
    await m.outbox.settle(claimed[3]!.id, { status: 'delivered', at: T0 + 100 })
    assert.is(await m.outbox.prune(T0 + 50), 2)
    assert.equal((await m.outbox.list({ limit: 10 })).map((d) => d.eventId).sort(), [events[1]!.id, events[3]!.id].sort())
    const [again] = await m.outbox.claim('A', 4, T0 + 200)
    assert.equal(again!.event, events[1])
    assert.is(await m.outbox.prune(T0 + 50), 0)
  })

  test.run()
}

// ---

// Memory renders a poll.vote record at once, from the texts it carries: no poll table to keep.
outboxContract('memory', ({ leaseMs }) => {
  const clock = { t: T0 }
  const outbox = createMemoryOutbox({ now: () => clock.t, leaseMs })
  return { outbox, append: (events) => outbox.appendEvents(events), addPoll: async () => {}, purge: async () => {}, clock, close() {} }
})

outboxContract('sqlite', ({ leaseMs }) => {
  const clock = { t: T0 }
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-outbox-contract-'))
  const store = openSqliteStore({ dataDir: dir, log: pino({ level: 'silent' }), outbox: { now: () => clock.t, leaseMs } })
  const { db, outbox } = store
  return {
    outbox,
    append: (events) => tx(db, () => outbox.appendEvents(events)),
    addPoll: (account, id, poll) => store.account(account).votes.commit({ polls: [pollRecord(id, poll)] }),
    purge: async (account) => { await store.removeAccount(account, true) },
    dropPoll: async (account, id) => { db.prepare('DELETE FROM poll_record WHERE account = ? AND id = ?').run([account, id]) },
    clock,
    close: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) },
  }
})

// PostgreSQL: a throwaway cluster for this file (or PG_TEST_URL), a schema per test. No
// PostgreSQL is a failure saying what to install, never a skip.
requirePostgres()
const cluster = pgCluster()
const pgServer = suite('outbox contract: postgres server')
pgServer('a PostgreSQL server to test against', async () => { assert.match(await cluster.url(), /^postgres(ql)?:\/\//) })
pgServer.run()

outboxContract('postgres', async ({ leaseMs }) => {
  const clock = { t: T0 }
  const url = await cluster.url()
  const schema = newSchema('pw_outbox')
  const store = await openPostgresStore({ url, schema, log: pino({ level: 'silent' }), poolSize: 4, outbox: { now: () => clock.t, leaseMs } })
  const outbox = store.outbox
  return {
    outbox,
    // As the PostgreSQL journal's commit does: inside its transaction, announced after it.
    append: async (events) => {
      const n = await pgTx(store.pool, (c) => outbox.appendEventsIn(c, events))
      if (n) outbox.appended()
    },
    addPoll: (account, id, poll) => store.account(account).votes.commit({ polls: [pollRecord(id, poll)] }),
    purge: async (account) => { await store.removeAccount(account, true) },
    dropPoll: async (account, id) => { await store.pool.query(`DELETE FROM "${schema}".poll_record WHERE account = $1 AND id = $2`, [account, id]) },
    clock,
    close: async () => { await store.close(); await dropSchema(url, schema) },
  }
})

const pgStop = suite('outbox contract: postgres server stops')
pgStop('the cluster of this file is removed', async () => { await cluster.stop() })
pgStop.run()
