import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { FakeContact } from './fake-wa/index.ts'
import { deliveryReceipts, describeVote, journal, missingFromJournal, readyWithoutQr, sleep, type SentVote } from './crash/crash-kit.ts'
import { startLinkedGroup, type LinkedGroup } from './harness/linked.ts'
import { collectLines, freePort, removeDir, startServer, waitFor, type ServerProcess } from './harness/server-process.ts'
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook-receiver.ts'

/**
 * Webhooks end to end (API.md, "Webhooks"): the real server, real Baileys and the fake WhatsApp
 * on one side, real HTTP receivers on 127.0.0.1 on the other, each verifying every signature
 * with its endpoint's secret through the `standardwebhooks` package.
 *
 * a. poll.sent, poll.vote (first, changed, retracted), poll.vote.rejected: fields and order.
 * b. A receiver answering 500 three times: the same webhook-id each time, delivered on the 4th.
 * c. kill -9 during a vote flood with the receiver down: after the restart and the receiver's
 *    return, exactly one webhook-id per journaled change of a selection, none for anything else.
 * d. A receiver down for longer than WEBHOOK_RETRY_FOR: `failed`, listed, retried by hand.
 * e. Endpoint removal, and the README's receiver examples against real deliveries.
 *
 * The scenarios share one account, one group and one data directory, in this order; the server
 * is restarted between them with the environment each needs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const GROUP = '120363000000000131@g.us'
const OWNER = { pn: '15550000131', lid: '900000000000131' }
/** WEBHOOK_RETRY_FOR of the first server: the retries of b fit in it (5 s, 30 s, then the cap) */
const RETRY_FOR_B = 50
/** WEBHOOK_RETRY_FOR of the server of d */
const RETRY_FOR_D = 3
/** votes per second during the flood of c, and how long it runs before the kill and after it */
const FLOOD_RATE = 25
const FLOOD_BEFORE_KILL_MS = 2500
const FLOOD_WHILE_DOWN_MS = 1000

interface Event { id: string; type: string; data: any; at: number }
interface HistoryRow { voter: string; selected: string[]; senderTimestamp: number; receivedAt: number; status: string; reason?: string }

interface World extends LinkedGroup {
  carol: FakeContact
  dave: FakeContact
  erin: FakeContact
  frank: FakeContact
  secret: string
  /** the WEBHOOK_URL endpoint's receiver, up (and answering 204) all along */
  r1: WebhookReceiver
  env: Record<string, string>
  /** the single-choice poll of a */
  lunch: string
  /** the polls of the flood in c */
  flood: { multi: string; single: string }
  timings: Record<string, number>
  /** spawned helpers to end whatever happens */
  children: ChildProcess[]
}

const hooks = suite<World>('webhooks: signed events from the vote path, retries, crash, failed deliveries', {} as World)

const member = (n: number, name: string) => ({ pn: `155523310${String(n).padStart(2, '0')}`, lid: `8100000031${String(n).padStart(2, '0')}`, name })

hooks.before(async (w) => {
  w.timings = {}
  w.children = []
  w.secret = `whsec_${randomBytes(32).toString('base64')}`
  w.r1 = await startWebhookReceiver({ secret: w.secret })
  w.env = { LOG_LEVEL: 'info', WEBHOOK_URL: w.r1.url, WEBHOOK_SECRET: w.secret }
  Object.assign(w, await startLinkedGroup({
    fake: { ownerPn: OWNER.pn, ownerLid: OWNER.lid, defaultTimeoutMs: 10_000 },
    alice: { pn: '15552331001', lid: '81000000311' },
    bob: { pn: '15552331002', lid: '81000000312' },
    members: [member(3, 'Carol'), member(4, 'Dave'), member(5, 'Erin'), member(6, 'Frank')],
    group: { id: GROUP, subject: 'Webhook club' },
    dataDirPrefix: 'pollwire-webhooks-',
    env: { ...w.env, WEBHOOK_RETRY_FOR: String(RETRY_FOR_B) },
  }))
  ;[w.carol, w.dave, w.erin, w.frank] = w.members as [FakeContact, FakeContact, FakeContact, FakeContact]
})

hooks.after(async (w) => {
  for (const c of w.children) if (c.exitCode === null) c.kill('SIGKILL')
  const bad = (w.server?.logs ?? []).filter((l) => /"level":(40|50|60)/.test(l) && /webhook|outbox|session\.status/i.test(l))
  if (bad.length) console.log(`  webhook warnings in the last server's log:\n${bad.slice(0, 10).join('\n')}`)
  await w.server?.kill9()
  await w.fake?.close()
  await w.r1?.close()
  if (w.dataDir) removeDir(w.dataDir)
  console.log(`  webhooks timings (s): ${Object.entries(w.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`)
})

// --- helpers

const del = async (server: ServerProcess, path: string) => {
  const res = await fetch(server.url + path, { method: 'DELETE' })
  return { status: res.status, body: await res.json().catch(() => null) }
}

/** Adds an endpoint through the API; the receiver learns its secret (shown in this answer only). */
async function addEndpoint(server: ServerProcess, r: WebhookReceiver, events?: string[]): Promise<string> {
  const res = await server.post('/webhooks', { url: r.url, ...(events ? { events } : {}) })
  assert.is(res.status, 201, JSON.stringify(res.body))
  assert.is(res.body.success, true)
  assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/)
  assert.is(res.body.endpoint.url, r.url)
  assert.is(res.body.endpoint.source, 'api')
  assert.equal(res.body.endpoint.events, events ?? null)
  r.setSecret(res.body.secret)
  const list = await server.get('/webhooks')
  assert.not.match(JSON.stringify(list.body), res.body.secret.slice(6, 30), 'the secret is never shown again')
  return res.body.endpoint.id
}

async function endpointView(server: ServerProcess, id: string) {
  const { status, body } = await server.get('/webhooks')
  assert.is(status, 200)
  return body.endpoints.find((e: { id: string }) => e.id === id)
}

async function deliveries(server: ServerProcess, query: string) {
  const { status, body } = await server.get(`/webhooks/deliveries?${query}`)
  assert.is(status, 200, JSON.stringify(body))
  return body.deliveries as Array<{ id: string; eventId: string; endpointId: string; type: string; status: string; attempts: number; nextAt: number; lastError?: string; lastStatus?: number; deliveredAt?: number; createdAt: number }>
}

async function sendPoll(w: World, question: string, options: string[], multi: boolean): Promise<string> {
  const res = await w.server.post('/send-poll', { chatId: GROUP, question, options, allowMultipleAnswers: multi })
  assert.is(res.status, 200, JSON.stringify(res.body))
  const id = res.body.pollMsgId as string
  await w.fake.waitForPoll(id)
  for (const c of [w.alice, w.bob, w.carol, w.dave, w.erin, w.frank]) await waitFor(`${c.name} decrypts the poll`, () => c.receivedPoll(id))
  return id
}

const pollEvents = (r: WebhookReceiver, pollId: string) => r.events().filter((e) => e.data?.pollMsgId === pollId)
const keyOf = (pollId: string, voter: string, ts: number) => `${pollId}|${voter}|${ts}`
const sorted = (a: string[]) => [...a].sort()

function noBadSignatures(...receivers: WebhookReceiver[]): void {
  const bad = receivers.flatMap((r) => r.signatureFailures())
  assert.equal(bad, [], 'every request verifies with its endpoint secret')
}

async function restart(w: World, env: Record<string, string>, how: 'stop' | 'kill9' = 'stop'): Promise<void> {
  if (how === 'stop') assert.is(await w.server.stop(), 0, 'clean exit')
  else await w.server.kill9()
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env })
  await readyWithoutQr(w.server)
}

// --- a

hooks('a: poll.sent, a vote, its change, its retraction, a repeat and a rejected vote arrive signed, in commit order', async (w) => {
  const t = Date.now()
  const list = await w.server.get('/webhooks')
  assert.is(list.status, 200)
  assert.is(list.body.endpoints.length, 1)
  const env = list.body.endpoints[0]
  assert.is(env.url, w.r1.url)
  assert.is(env.source, 'env')
  assert.is(env.events, null)
  assert.not.ok('secret' in env)

  // Pairing happened after the endpoint existed: the session reached ready, with the user.
  const ready = await waitFor('session.status ready', () => w.r1.events('session.status').find((e) => e.data.status === 'ready'))
  assert.is(ready.data.account, 'default')
  assert.match(ready.data.user.id, new RegExp(`^${OWNER.pn}(:\\d+)?@s\\.whatsapp\\.net$`))

  w.lunch = await sendPoll(w, 'Lunch?', ['Pizza', 'Sushi', 'Tacos'], false)
  const id = w.lunch
  const upTo = (n: number) => waitFor(`${n} events of the poll`, () => {
    const e = pollEvents(w.r1, id)
    return e.length >= n ? e : undefined
  })
  const t0 = Date.now()
  await w.alice.vote({ pollId: id, options: ['Pizza'], senderTimestampMs: t0 + 1 })
  await upTo(2)
  await w.alice.vote({ pollId: id, options: ['Sushi'], senderTimestampMs: t0 + 2 })
  await upTo(3)
  await w.alice.vote({ pollId: id, options: [], senderTimestampMs: t0 + 3 })
  await upTo(4)
  await w.carol.vote({ pollId: id, options: ['Tacos'], senderTimestampMs: t0 + 4 })
  await upTo(5)
  // The same selection again (newer): journaled and counted, but no change, so no event.
  await w.carol.vote({ pollId: id, options: ['Tacos'], senderTimestampMs: t0 + 5 })
  // Two options on a single-choice poll.
  await w.bob.vote({ pollId: id, options: ['Pizza', 'Sushi'], senderTimestampMs: t0 + 6 })
  await upTo(6)
  const history = await waitFor('six journal rows', async () => {
    const { body } = await w.server.get(`/polls/${id}/votes`)
    return body.votes.length >= 6 ? body.votes as HistoryRow[] : undefined
  })
  assert.equal(history.map((v) => [v.voter, v.status, v.reason]), [
    [w.alice.pnJid, 'superseded', undefined], [w.alice.pnJid, 'superseded', undefined], [w.alice.pnJid, 'counted', undefined],
    [w.carol.pnJid, 'superseded', undefined], [w.carol.pnJid, 'counted', undefined], [w.bob.pnJid, 'rejected', 'too_many_options'],
  ])
  // Events of one poll reach an endpoint in commit order, so nothing can still come before the last.
  await sleep(300)
  const events = pollEvents(w.r1, id)
  assert.equal(events.map((e) => e.type), ['poll.sent', 'poll.vote', 'poll.vote', 'poll.vote', 'poll.vote', 'poll.vote.rejected'])

  const [sent, first, changed, retracted, carol, rejected] = events as [Event, Event, Event, Event, Event, Event]
  assert.is(sent.data.account, 'default')
  assert.is(sent.data.pollMsgId, id)
  assert.is(sent.data.poll.question, 'Lunch?')
  assert.equal(sent.data.poll.options, ['Pizza', 'Sushi', 'Tacos'])
  assert.is(sent.data.poll.chatId, GROUP)
  assert.is(sent.data.poll.selectableCount, 1)
  assert.equal(sent.data.poll.results, { Pizza: 0, Sushi: 0, Tacos: 0 })

  const vote = (e: Event) => {
    const { voterName, ...rest } = e.data
    if (voterName !== undefined) assert.type(voterName, 'string')
    return rest
  }
  const common = { account: 'default', pollMsgId: id, question: 'Lunch?' }
  assert.equal(vote(first), { ...common, voter: w.alice.pnJid, selected: ['Pizza'], previous: null, senderTimestampMs: t0 + 1, results: { Pizza: 1, Sushi: 0, Tacos: 0 } })
  assert.equal(vote(changed), { ...common, voter: w.alice.pnJid, selected: ['Sushi'], previous: ['Pizza'], senderTimestampMs: t0 + 2, results: { Pizza: 0, Sushi: 1, Tacos: 0 } })
  assert.equal(vote(retracted), { ...common, voter: w.alice.pnJid, selected: [], previous: ['Sushi'], senderTimestampMs: t0 + 3, results: { Pizza: 0, Sushi: 0, Tacos: 0 } })
  assert.equal(vote(carol), { ...common, voter: w.carol.pnJid, selected: ['Tacos'], previous: null, senderTimestampMs: t0 + 4, results: { Pizza: 0, Sushi: 0, Tacos: 1 } })
  assert.equal(rejected.data, { account: 'default', pollMsgId: id, voter: w.bob.pnJid, reason: 'too_many_options' })

  // The envelope: Standard Webhooks headers, the body's type and ISO timestamp, one id per event.
  noBadSignatures(w.r1)
  for (const e of events) {
    const hit = w.r1.hits.find((h) => h.id === e.id)!
    assert.match(hit.id, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.is(hit.headers['content-type'], 'application/json')
    assert.ok(Math.abs(Number(hit.headers['webhook-timestamp']) * 1000 - hit.at) < 60_000, 'webhook-timestamp is the attempt time, in seconds')
    assert.is(hit.event!.type, e.type)
    assert.ok(Math.abs(Date.parse(hit.event!.timestamp) - hit.at) < 60_000, `ISO timestamp ${hit.event!.timestamp}`)
    assert.is(new Date(Date.parse(hit.event!.timestamp)).toISOString(), hit.event!.timestamp)
  }
  assert.is(new Set(events.map((e) => e.id)).size, events.length)
  const delivered = await deliveries(w.server, 'status=delivered&limit=100')
  for (const e of events) {
    const d = delivered.find((x) => x.eventId === e.id)
    assert.ok(d, `delivery of ${e.type} ${e.id} listed as delivered`)
    assert.is(d!.endpointId, env.id)
    assert.is(d!.type, e.type)
    assert.ok(d!.attempts >= 1 && d!.deliveredAt! >= d!.createdAt)
  }
  w.timings.a = Date.now() - t
})

// --- b

hooks('b: a receiver answering 500 three times gets the same webhook-id each time and the 4th attempt is delivered', async (w) => {
  const t = Date.now()
  // The real schedule: ~5 s, ~30 s, 2 min. WEBHOOK_RETRY_FOR=50 caps the third wait: the 4th and
  // last attempt is made at the give-up moment itself, ~50 s after the event (API.md: "the last
  // try is made at the give-up moment"), so 500-500-500-200 fits in under a minute.
  const r2 = await startWebhookReceiver({ answer: (_h, attempt) => (attempt <= 3 ? 500 : 200) })
  let ep: string | undefined
  try {
    ep = await addEndpoint(w.server, r2, ['poll.sent'])
    const id = await sendPoll(w, 'Retries?', ['Yes', 'No'], false)
    const fromR1 = await waitFor('poll.sent at the healthy endpoint', () => w.r1.events('poll.sent').find((e) => e.data.pollMsgId === id))
    const firstR2 = await waitFor('the first attempt', () => r2.hits[0])
    assert.ok(fromR1.at - t < 15_000, 'a failing endpoint holds back no other')

    // While it fails: pending, its attempts and the answer's status listed, the endpoint's health shows it.
    await waitFor('the second attempt', () => r2.hits[1], 10_000)
    const pending = await waitFor('a pending delivery with 2 attempts', async () => {
      const d = (await deliveries(w.server, `status=pending&endpoint=${ep}`))[0]
      return d && d.attempts === 2 ? d : undefined
    }, 5000)
    assert.is(pending.lastStatus, 500)
    assert.match(pending.lastError ?? '', /HTTP 500/)
    assert.ok(pending.nextAt > Date.now(), 'due later')
    const failing = await endpointView(w.server, ep)
    assert.is(failing.health.consecutiveFailures, 2)
    assert.is(failing.health.backlog, 1)
    assert.match(failing.health.lastError, /HTTP 500/)
    assert.ok(failing.health.lastFailureAt >= firstR2.at - 1000)
    assert.is(failing.health.lastSuccessAt, null)

    const done = await waitFor('delivered', async () => {
      const d = (await deliveries(w.server, `status=delivered&endpoint=${ep}`))[0]
      return d
    }, (RETRY_FOR_B + 15) * 1000)
    assert.is(r2.hits.length, 4)
    assert.equal(r2.hits.map((h) => h.answered), [500, 500, 500, 200])
    assert.equal(r2.hits.map((h) => h.id), Array(4).fill(fromR1.id), 'one webhook-id for the event, at every endpoint and attempt')
    assert.ok(r2.hits.every((h) => h.body === r2.hits[0]!.body), 'the same body byte for byte')
    noBadSignatures(r2)
    assert.is(done.attempts, 4)
    assert.is(done.status, 'delivered')
    assert.is(done.eventId, fromR1.id)
    assert.is(done.lastStatus, 200)
    const gaps = r2.hits.slice(1).map((h, i) => h.at - r2.hits[i]!.at)
    assert.ok(gaps[0]! >= 3500 && gaps[0]! <= 8000, `first retry after ~5 s (${gaps[0]} ms)`)
    assert.ok(gaps[1]! >= 20_000, `second retry after ~30 s (${gaps[1]} ms)`)
    const healthy = await endpointView(w.server, ep)
    assert.is(healthy.health.consecutiveFailures, 0)
    assert.is(healthy.health.backlog, 0)
    assert.ok(healthy.health.lastSuccessAt >= r2.hits[3]!.at - 1000)
    w.timings.b = Date.now() - t
    console.log(`  b: attempts at +${r2.hits.map((h) => ((h.at - r2.hits[0]!.at) / 1000).toFixed(1)).join(' s, +')} s`)
  } finally {
    if (ep) assert.is((await del(w.server, `/webhooks/${ep}`)).status, 200)
    await r2.close()
  }
})

// --- c

hooks('c: kill -9 during a vote flood with the receiver down: one webhook-id per journaled change, none for anything else', async (w) => {
  const t = Date.now()
  const r3 = await startWebhookReceiver({ listen: false })
  let ep: string | undefined
  try {
    ep = await addEndpoint(w.server, r3, ['poll.vote'])
    const multi = await sendPoll(w, 'Flood multi?', ['A', 'B', 'C', 'D'], true)
    const single = await sendPoll(w, 'Flood single?', ['X', 'Y', 'Z'], false)
    w.flood = { multi, single }
    const voters = [w.alice, w.bob, w.carol, w.dave, w.erin, w.frank]
    const sent: SentVote[] = []
    const stop = { now: false }
    const base = Date.now()
    let fresh = 0
    let late = 0
    let n = 0
    const flooding = (async () => {
      while (!stop.now) {
        const voter = voters[n % voters.length]!
        const single_ = (n >> 1) % 3 === 0
        const pollId = single_ ? single : multi
        const options = single_
          ? [[], ['X'], ['Y'], ['Z'], ['X']][(n * 7) % 5]!
          : ['A', 'B', 'C', 'D'].filter((_, i) => ((n * 13 + i * 5) % 7) < 3)
        // One vote in eight is older than all before it: journaled as late, never an event.
        const ts = n % 8 === 5 ? base - 1_000_000 + ++late : base + ++fresh
        n++
        const id = await voter.vote({ pollId, options, senderTimestampMs: ts })
        sent.push({ id, voter, pollId, options, ts })
        await sleep(1000 / FLOOD_RATE)
      }
    })()
    await sleep(FLOOD_BEFORE_KILL_MS)
    await w.server.kill9()
    const killedAt = Date.now()
    const atKill = sent.length
    const ackedAtKill = deliveryReceipts(w.fake)
    await sleep(FLOOD_WHILE_DOWN_MS)
    stop.now = true
    await flooding

    w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: w.env })
    assert.not.ok(r3.listening)
    await r3.up()
    await readyWithoutQr(w.server)
    await waitFor('every vote acknowledged', () => {
      const acked = deliveryReceipts(w.fake)
      return sent.every((v) => acked.has(v.id))
    }, 60_000)
    const polls = [multi, single]
    let missingVotes: SentVote[] = []
    await waitFor('every vote journaled', async () => !(missingVotes = missingFromJournal(sent, await journal(w.server, polls))).length, 20_000)
      .catch(() => assert.unreachable(`${missingVotes.length} votes not journaled:\n${missingVotes.slice(0, 5).map(describeVote).join('\n')}`))
    await waitFor('the backlog drained', async () => {
      const { body } = await w.server.get('/webhooks')
      return body.endpoints.every((e: any) => e.health.backlog === 0)
    }, 60_000)
    noBadSignatures(w.r1, r3)

    // What the journal says changed a selection: rows that became their voter's current vote
    // (counted, or superseded since) in sender-time order per voter, whose selection differs
    // from the one before (a first vote: when it selects anything).
    const expected = new Map<string, { selected: string[]; previous: string[] | null }>()
    const journaled = new Set<string>()
    const byVoter = new Map<string, Array<HistoryRow & { pollId: string }>>()
    for (const pollId of polls) {
      const { body } = await w.server.get(`/polls/${pollId}/votes`)
      for (const row of body.votes as HistoryRow[]) {
        journaled.add(keyOf(pollId, row.voter, row.senderTimestamp))
        if (row.status !== 'counted' && row.status !== 'superseded') continue
        const list = byVoter.get(`${pollId}|${row.voter}`) ?? []
        list.push({ ...row, pollId })
        byVoter.set(`${pollId}|${row.voter}`, list)
      }
    }
    for (const rows of byVoter.values()) {
      let before: string[] | null = null
      for (const row of rows.sort((a, b) => a.senderTimestamp - b.senderTimestamp)) {
        const change = before === null ? row.selected.length > 0 : sorted(before).join() !== sorted(row.selected).join()
        // `previous` is null when the voter had no selection (no vote yet, or retracted)
        if (change) expected.set(keyOf(row.pollId, row.voter, row.senderTimestamp), { selected: row.selected, previous: before?.length ? before : null })
        before = row.selected
      }
    }

    for (const [name, r] of [['receiver down during the kill', r3], ['receiver up all along', w.r1]] as const) {
      const events = r.events('poll.vote').filter((e) => polls.includes(e.data.pollMsgId))
      const idsOf = new Map<string, string[]>()
      for (const e of events) {
        const key = keyOf(e.data.pollMsgId, e.data.voter, e.data.senderTimestampMs)
        idsOf.set(key, [...(idsOf.get(key) ?? []), e.id])
      }
      const twice = [...idsOf].filter(([, ids]) => ids.length > 1)
      assert.equal(twice, [], `${name}: one webhook-id per vote`)
      const notJournaled = [...idsOf.keys()].filter((k) => !journaled.has(k))
      assert.equal(notJournaled, [], `${name}: no event for a vote that is not in the journal`)
      const unexpected = [...idsOf.keys()].filter((k) => !expected.has(k))
      assert.equal(unexpected, [], `${name}: no event for a vote that changed nothing (late, duplicate, same selection)`)
      const missing = [...expected.keys()].filter((k) => !idsOf.has(k))
      assert.equal(missing, [], `${name}: an event for every journaled change of a selection`)
      // Commit order per poll: each voter's events chain (each one's previous selection is the
      // one the event before it selected), and the last event of a poll carries the final results.
      // A first vote that retracted is no event, but it is the selection before the next one: [].
      const last = new Map<string, string[]>()
      for (const e of events) {
        const key = keyOf(e.data.pollMsgId, e.data.voter, e.data.senderTimestampMs)
        const who = `${e.data.pollMsgId}|${e.data.voter}`
        const want = expected.get(key)!
        assert.equal(sorted(e.data.selected), sorted(want.selected), `${name}: selected of ${key}`)
        assert.equal(e.data.previous && sorted(e.data.previous), want.previous && sorted(want.previous), `${name}: previous of ${key}`)
        assert.equal(sorted(e.data.previous ?? []), sorted(last.get(who) ?? []), `${name}: ${key} follows the voter's event before it`)
        last.set(who, e.data.selected)
      }
      const { body } = await w.server.get('/get-all-poll-data')
      for (const pollId of polls) {
        const final = events.filter((e) => e.data.pollMsgId === pollId).at(-1)
        assert.equal(final?.data.results, body.polls[pollId].results, `${name}: the last event of ${pollId} has the final results`)
      }
    }
    // Both endpoints got the same events: the webhook-id is the event's.
    const ids = (r: WebhookReceiver) => sorted(r.events('poll.vote').filter((e) => polls.includes(e.data.pollMsgId)).map((e) => e.id))
    assert.equal(ids(r3), ids(w.r1))
    const redelivered = w.r1.hits.filter((h) => h.attempt > 1 && h.answered < 300).length
    const beforeKill = w.r1.events('poll.vote').filter((e) => polls.includes(e.data.pollMsgId) && e.at < killedAt).length
    const rows = [...(await journal(w.server, polls)).values()].flat()
    w.timings.c = Date.now() - t
    console.log(`  c: ${sent.length} votes (${atKill} before the kill, ${sent.filter((v) => ackedAtKill.has(v.id)).length} acknowledged by then), ` +
      `${rows.length} journal rows (${rows.filter((r) => r.status === 'late').length} late, ${rows.filter((r) => r.status === 'duplicate').length} duplicate), ` +
      `${expected.size} changes = ${ids(r3).length} webhook-ids at each endpoint; the endpoint that was up had ${beforeKill} before the kill ` +
      `and ${redelivered} redeliveries of an accepted event`)
  } finally {
    if (ep) await del(w.server, `/webhooks/${ep}`).catch(() => {})
    await r3.close()
  }
})

// --- d

hooks('d: a receiver down longer than WEBHOOK_RETRY_FOR: deliveries end failed, are listed, and a retry delivers them', async (w) => {
  const t = Date.now()
  await restart(w, { ...w.env, WEBHOOK_RETRY_FOR: String(RETRY_FOR_D) })
  const r4 = await startWebhookReceiver({ listen: false })
  let ep: string | undefined
  try {
    ep = await addEndpoint(w.server, r4, ['poll.vote'])
    const t0 = Date.now()
    // alice retracted in a, bob was rejected: both are changes.
    await w.alice.vote({ pollId: w.lunch, options: ['Tacos'], senderTimestampMs: t0 })
    await w.bob.vote({ pollId: w.lunch, options: ['Pizza'], senderTimestampMs: t0 + 1 })
    const failed = await waitFor('two failed deliveries', async () => {
      const list = await deliveries(w.server, `status=failed&endpoint=${ep}`)
      return list.length >= 2 ? list : undefined
    }, (RETRY_FOR_D + 10) * 1000)
    const tFailed = Date.now() - t0
    assert.is(failed.length, 2)
    for (const d of failed) {
      assert.is(d.status, 'failed')
      assert.is(d.type, 'poll.vote')
      assert.ok(d.attempts >= 1)
      assert.match(d.lastError ?? '', /ECONNREFUSED|connection/i)
      assert.is(d.lastStatus, undefined)
    }
    const view = await endpointView(w.server, ep)
    assert.is(view.health.backlog, 0)
    assert.ok(view.health.consecutiveFailures >= 2)
    assert.match(view.health.lastError, /ECONNREFUSED|connection/i)
    assert.is(view.health.lastSuccessAt, null)
    assert.is((await deliveries(w.server, `status=pending&endpoint=${ep}`)).length, 0)

    await r4.up()
    assert.is((await w.server.post('/webhooks/deliveries/999999999/retry', {})).status, 404)
    for (const d of [...failed].reverse()) {
      const res = await w.server.post(`/webhooks/deliveries/${d.id}/retry`, {})
      assert.is(res.status, 200, JSON.stringify(res.body))
      assert.is(res.body.delivery.id, d.id)
    }
    const done = await waitFor('both delivered', async () => {
      const list = await deliveries(w.server, `status=delivered&endpoint=${ep}`)
      return list.length >= 2 ? list : undefined
    }, 10_000)
    for (const d of done) {
      const before = failed.find((f) => f.id === d.id)!
      assert.is(d.attempts, before.attempts + 1, 'the retry is one more attempt')
      assert.is(d.eventId, before.eventId)
    }
    noBadSignatures(r4)
    const events = r4.events('poll.vote')
    assert.equal(sorted(events.map((e) => e.id)), sorted(failed.map((d) => d.eventId)))
    assert.equal(events.map((e) => [e.data.voter, e.data.selected, e.data.previous]).sort(),
      // Alice had retracted before: no selection, so `previous` is null
      [[w.alice.pnJid, ['Tacos'], null], [w.bob.pnJid, ['Pizza'], null]].sort())
    const healthy = await endpointView(w.server, ep)
    assert.is(healthy.health.consecutiveFailures, 0)
    assert.ok(healthy.health.lastSuccessAt > 0)
    w.timings.d = Date.now() - t
    console.log(`  d: both deliveries failed ${(tFailed / 1000).toFixed(1)} s after the votes (attempts ${failed.map((d) => d.attempts).join(', ')}), delivered after the retry`)
  } finally {
    if (ep) assert.is((await del(w.server, `/webhooks/${ep}`)).status, 200)
    await r4.close()
  }
})

// --- e

hooks('e: an env endpoint cannot be removed (409), an API one can with its deliveries; unknown ones are 404', async (w) => {
  const { body } = await w.server.get('/webhooks')
  const env = body.endpoints.find((e: any) => e.source === 'env')
  assert.is((await del(w.server, `/webhooks/${env.id}`)).status, 409)
  const r5 = await startWebhookReceiver()
  try {
    const ep = await addEndpoint(w.server, r5)
    await w.carol.vote({ pollId: w.lunch, options: ['Pizza'] })
    await waitFor('a delivery to it', async () => (await deliveries(w.server, `endpoint=${ep}`)).length > 0)
    const removed = await del(w.server, `/webhooks/${ep}`)
    assert.is(removed.status, 200)
    assert.is(removed.body.success, true)
    assert.is(await endpointView(w.server, ep), undefined)
    assert.equal(await deliveries(w.server, `endpoint=${ep}`), [])
    assert.is((await del(w.server, `/webhooks/${ep}`)).status, 404)
  } finally {
    await r5.close()
  }
  const bad = await w.server.post('/webhooks', { url: 'ftp://127.0.0.1/x' })
  assert.is(bad.status, 400)
  assert.is((await w.server.post('/webhooks', { url: 'http://127.0.0.1:1/x', events: ['poll.nope'] })).status, 400)
  assert.is((await w.server.get('/webhooks/deliveries?status=lost')).status, 400)
})

/** The fenced block of `lang` in the README's Webhooks section. */
function readmeExample(lang: string): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Webhooks'))
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section.slice(0, section.indexOf('\n## ', 5)))
  if (!m) throw new Error(`no ${lang} example in the README's Webhooks section`)
  return m[1]!
}

hooks('e: the README receivers verify real deliveries (Node, standardwebhooks) and refuse forged ones (Node, Python)', async (w) => {
  const port = await freePort()
  const res = await w.server.post('/webhooks', { url: `http://127.0.0.1:${port}/`, events: ['poll.vote'] })
  assert.is(res.status, 201)
  const { secret, endpoint } = res.body
  // The example as printed, run from the project (it imports standardwebhooks from node_modules).
  const node = spawn(process.execPath, ['--input-type=module', '-e', readmeExample('js')], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: String(port), WEBHOOK_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  w.children.push(node)
  const lines = collectLines(node)
  try {
    await waitFor('the example listens', async () => {
      try { return (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).status === 400 } catch { return false }
    })
    await w.dave.vote({ pollId: w.lunch, options: ['Sushi'] })
    const line = await waitFor('the example printed the event', () => lines.find((l) => l.includes('poll.vote')), 10_000)
    // The example prints before it answers, and the answer is recorded after that: wait for the record.
    const delivered = await waitFor('the example answered 2xx (the delivery recorded as delivered)',
      async () => (await deliveries(w.server, `status=delivered&endpoint=${endpoint.id}`))[0])
    assert.ok(line.startsWith(delivered!.eventId), line)
    assert.match(line, new RegExp(`"voter":"${w.dave.pnJid}"`))
    // A forged delivery: signed with another secret.
    const forged = new Webhook(`whsec_${randomBytes(32).toString('base64')}`)
    const body = '{"type":"poll.vote","timestamp":"2026-01-01T00:00:00.000Z","data":{}}'
    const now = new Date()
    const refused = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST', body,
      headers: { 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': forged.sign('msg_forged', now, body) },
    })
    assert.is(refused.status, 400)
  } finally {
    node.kill('SIGTERM')
    await del(w.server, `/webhooks/${endpoint.id}`)
  }

  // Python: a real delivery recorded by the env receiver, one signed here with the Node package,
  // and each tampered with.
  // The newest: the example checks the timestamp is within 5 minutes.
  const real = [...w.r1.hits].reverse().find((h) => h.event?.type === 'poll.vote')!
  const at = new Date()
  const mineBody = JSON.stringify({ type: 'poll.vote', timestamp: at.toISOString(), data: { question: 'Ünïcode ✓' } })
  const mine = { headers: { 'webhook-id': 'msg_local', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(w.secret).sign('msg_local', at, mineBody) }, body: mineBody }
  const cases = [
    { headers: real.headers, body: real.body, ok: true },
    { ...mine, ok: true },
    { headers: real.headers, body: real.body.replace('poll.vote', 'poll.votf'), ok: false },
    { headers: { ...mine.headers, 'webhook-id': 'msg_other' }, body: mine.body, ok: false },
  ]
  const script = `${readmeExample('python')}
import json, sys
secret, cases = sys.argv[1], json.loads(sys.stdin.read())
for c in cases:
    try:
        print("ok", verify(secret, c["headers"], c["body"].encode())["type"])
    except ValueError as e:
        print("refused", e)
`
  const py = spawnSync('/usr/bin/python3', ['-c', script, w.secret], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 20_000 })
  assert.is(py.status, 0, py.stderr)
  const out = py.stdout.trim().split('\n')
  assert.equal(out.map((l) => l.split(' ')[0]), cases.map((c) => (c.ok ? 'ok' : 'refused')), py.stdout)
  assert.is(out[0], 'ok poll.vote')
})

hooks.run()
