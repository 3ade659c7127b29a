import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { adminQuery, pgCluster, requirePostgres } from '../store/pg-harness.ts'
import type { FakeContact, FakeWhatsApp } from './fake-wa/index.ts'
import { startFakeWhatsApp } from './fake-wa/index.ts'
import { deliveryReceipts, journal, missingFromJournal, sleep, tallyDifferences, type PollInfo, type SentVote } from './crash/crash-kit.ts'
import { guiSocket } from './harness/gui-socket.ts'
import { pairByQr } from './harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from './harness/server-process.ts'
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook-receiver.ts'

/**
 * Two server processes on one PostgreSQL database (issue #15, API.md "Past one machine"),
 * real Baileys against the fake WhatsApp, a throwaway PostgreSQL cluster:
 * - process A links `default`; process B starts on the same database and shows the same
 *   /status; an account added through B (`shop`) is owned by one process and shown alike by both;
 * - a poll sent through B is forwarded to A, the owner;
 * - kill -9 A during a vote flood: B owns `default` within 10 s without a new QR; every vote the
 *   fake sent is journaled and counted once (what A acknowledged from the database, the rest
 *   redelivered to B); the Socket.IO client on B ends with the right tally; the webhook receiver
 *   got one webhook-id per vote change, none twice with different ids;
 * - A, back as a follower, takes the account over from a hung owner (SIGSTOP: PostgreSQL ends its
 *   silent lock session), and the owner, woken, knows it lost it.
 * Run: node --import tsx node_modules/uvu/bin.js test/e2e "cluster\.test\.ts$"
 */

const GROUP = '120363000000000181@g.us'
const FLOOD_RATE = 40
const FLOOD_BEFORE_KILL_MS = 1500
const FLOOD_AFTER_KILL_MS = 2500
const TAKEOVER_MS = 10_000

interface World {
  pg: ReturnType<typeof pgCluster>
  fake: FakeWhatsApp
  voters: FakeContact[]
  a: ServerProcess
  b: ServerProcess
  dirs: string[]
  env: Record<string, string>
  receiver: WebhookReceiver
  gui: ReturnType<typeof guiSocket>
}

const cluster = suite<World>('two processes on one PostgreSQL database', {} as World)

cluster.before(async (w) => {
  requirePostgres()
  w.pg = pgCluster()
  const base = await w.pg.url()
  const db = `pw_cluster_${process.pid}`
  await adminQuery(base, `CREATE DATABASE ${db}`)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  w.receiver = await startWebhookReceiver({ secret })
  w.env = { LOG_LEVEL: process.env.CLUSTER_LOG ?? 'info', DATABASE_URL: base.replace(/\/postgres$/, `/${db}`), WEBHOOK_URL: w.receiver.url, WEBHOOK_SECRET: secret }
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000181', ownerLid: '900000000000181', ownerName: 'Cluster Owner', defaultTimeoutMs: 10_000 })
  w.voters = Array.from({ length: 6 }, (_, i) => w.fake.addContact({ pn: `155518100${i}0`, lid: `8100000181${i}0`, name: `Voter ${i}` }))
  w.fake.addGroup({ id: GROUP, subject: 'Cluster club', participants: w.voters })
  w.dirs = [tempDir('pollwire-cluster-a-'), tempDir('pollwire-cluster-b-')]
  w.a = await startServer({ waWsUrl: w.fake.url, dataDir: w.dirs[0], env: w.env })
  await pairByQr(w.a, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  w.b = await startServer({ waWsUrl: w.fake.url, dataDir: w.dirs[1], env: w.env })
})

cluster.after(async (w) => {
  w.gui?.close()
  await w.a?.kill9()
  await w.b?.stop()
  await w.fake?.close()
  await w.receiver?.close()
  for (const d of w.dirs ?? []) removeDir(d)
  await w.pg?.stop()
})

cluster('B shows what A owns; an account added through B is shown alike by both; a send through B is forwarded', async (w) => {
  const onB = await waitFor('B shows default ready (A owns it)', async () => {
    const { body } = await w.b.get('/status')
    return body?.status === 'ready' ? body : undefined
  }, 15_000)
  const onA = (await w.a.get('/status')).body
  assert.equal(onB.user, onA.user)
  const added = await w.b.post('/accounts', { id: 'shop' })
  assert.is(added.status, 201, JSON.stringify(added.body))
  const qr = await waitFor('shop waits for its QR on both', async () => {
    const [x, y] = [(await w.a.get('/accounts/shop/status')).body, (await w.b.get('/accounts/shop/status')).body]
    return x?.status === 'qr_pending' && y?.status === 'qr_pending' && x.qrCode && x.qrCode === y.qrCode ? x.qrCode : undefined
  }, 20_000)
  assert.type(qr, 'string')
  const list = await waitFor('A lists shop too', async () => {
    const { body } = await w.a.get('/accounts')
    return body.accounts.some((a: any) => a.id === 'shop') ? body.accounts : undefined
  }, 10_000)
  assert.equal(list.map((a: any) => a.id), ['default', 'shop'])

  const sent = await w.b.post('/send-poll', { chatId: GROUP, question: 'Forwarded?', options: ['Yes', 'No'] })
  assert.is(sent.status, 200, JSON.stringify(sent.body))
  await w.fake.waitForPoll(sent.body.pollMsgId)
  await waitFor('B lists the poll A sent (its copy follows the database)', async () => (await w.b.get('/get-all-poll-data')).body.polls[sent.body.pollMsgId] || undefined, 10_000)
})

cluster('kill -9 the owner during a vote flood: B owns the account within 10 s and counts every vote once', async (w) => {
  w.gui = guiSocket(w.b.url)
  const res = await w.b.post('/send-poll', { chatId: GROUP, question: 'Takeover?', options: ['A', 'B', 'C'], allowMultipleAnswers: true })
  assert.is(res.status, 200, JSON.stringify(res.body))
  const poll: PollInfo = { id: res.body.pollMsgId, options: ['A', 'B', 'C'], single: false, secret: new Uint8Array() }
  await w.fake.waitForPoll(poll.id)
  await waitFor('every voter has the poll', () => w.voters.every((v) => v.receivedPoll(poll.id)) || undefined)

  const sent: SentVote[] = []
  const stop = { now: false }
  const base = Date.now()
  let n = 0
  const flooding = (async () => {
    while (!stop.now) {
      const voter = w.voters[n % w.voters.length]!
      const options = poll.options.filter((_, i) => ((n * 5 + i * 3) % 7) < 3)
      const ts = base + ++n
      const id = await voter.vote({ pollId: poll.id, options, senderTimestampMs: ts })
      sent.push({ id, voter, pollId: poll.id, options, ts })
      await sleep(1000 / FLOOD_RATE)
    }
  })()
  await sleep(FLOOD_BEFORE_KILL_MS)
  const ackedBefore = deliveryReceipts(w.fake).size
  await w.a.kill9()
  const killedAt = Date.now()
  // B says so when it took the lock and connected its own copy; /status is then B's own.
  const owns = (line: string) => line.includes('this process owns the account now') && line.includes('"account":"default"')
  const ownedBefore = w.b.logs.filter(owns).length
  const took = await waitFor('B owns default and is ready', async () => {
    if (w.b.logs.filter(owns).length <= ownedBefore) return undefined
    const { body } = await w.b.get('/status')
    return body?.status === 'ready' ? Date.now() - killedAt : undefined
  }, 30_000)
  await sleep(Math.max(0, FLOOD_AFTER_KILL_MS - (Date.now() - killedAt)))
  stop.now = true
  await flooding
  console.log(`\n  ${sent.length} votes; ${ackedBefore} acknowledged before the kill; B ready ${took} ms after it`)
  assert.ok(took <= TAKEOVER_MS, `takeover took ${took} ms`)

  // A send now goes to B itself (the owner): it must work.
  const after = await w.b.post('/send-poll', { chatId: GROUP, question: 'After?', options: ['Yes', 'No'] })
  assert.is(after.status, 200, JSON.stringify(after.body))

  await waitFor('every vote acknowledged', () => sent.every((v) => deliveryReceipts(w.fake).has(v.id)) || undefined, 60_000)
  let missing: SentVote[] = []
  await waitFor('every vote journaled', async () => !(missing = missingFromJournal(sent, await journal(w.b, [poll.id]))).length, 20_000)
    .catch(() => assert.unreachable(`${missing.length} votes not journaled`))
  const rows = await journal(w.b, [poll.id])
  const twice = [...rows].filter(([, list]) => list.filter((e) => e.status !== 'duplicate').length !== 1).map(([k]) => k)
  assert.equal(twice, [], 'each vote is one journal row (a redelivery is a duplicate sighting)')
  let diffs: string[] = []
  await waitFor('the tally matches the votes', async () => !(diffs = await tallyDifferences(w.b, [poll], sent)).length, 15_000)
    .catch(() => assert.unreachable(diffs.join('\n')))

  const final = (await w.b.get(`/polls/${poll.id}`)).body.results
  const seen = await waitFor('the GUI on B ends with the same tally', () => {
    let last: Record<string, number> | undefined
    for (const e of w.gui.events) {
      if (e.event === 'poll_update_to_gui' && e.payload.pollMsgId === poll.id) last = e.payload.results
      if (e.event === 'initial_poll_data' && e.payload[poll.id]) last = e.payload[poll.id].results
    }
    return last && JSON.stringify(last) === JSON.stringify(final) ? last : undefined
  }, 10_000)
  assert.equal(seen, final)

  // Deliveries the dead owner had claimed are free again once their lease (30 s) runs out.
  await waitFor('webhook backlog drained', async () => (await w.b.get('/webhooks')).body.endpoints.every((e: any) => e.health.backlog === 0), 60_000)
  assert.equal(w.receiver.signatureFailures(), [])
  const idsOf = new Map<string, Set<string>>()
  for (const e of w.receiver.events('poll.vote').filter((e) => e.data.pollMsgId === poll.id)) {
    const key = `${e.data.voter}|${e.data.senderTimestampMs}`
    if (!idsOf.has(key)) idsOf.set(key, new Set())
    idsOf.get(key)!.add(e.id)
  }
  const doubled = [...idsOf].filter(([, ids]) => ids.size > 1).map(([k]) => k)
  assert.equal(doubled, [], 'no vote change reported twice with different webhook-ids')
  assert.ok(idsOf.size > 0, 'vote events arrived')
})

cluster('a hung owner (SIGSTOP) loses the account within ~15 s; woken up, it stops and follows', async (w) => {
  // A again, as a follower of what B owns now.
  w.a = await startServer({ waWsUrl: w.fake.url, dataDir: w.dirs[0], env: w.env })
  await waitFor('A shows default ready (B owns it)', async () => (await w.a.get('/status')).body?.status === 'ready' || undefined, 15_000)
  const owns = (line: string) => line.includes('this process owns the account now') && line.includes('"account":"default"')
  const before = w.a.logs.filter(owns).length
  w.b.proc.kill('SIGSTOP')
  const stoppedAt = Date.now()
  let took = 0
  try {
    took = await waitFor('A owns default', async () => {
      if (w.a.logs.filter(owns).length <= before) return undefined
      return (await w.a.get('/status')).body?.status === 'ready' ? Date.now() - stoppedAt : undefined
    }, 30_000)
  } finally {
    w.b.proc.kill('SIGCONT')
  }
  console.log(`  hung owner: A owns default ${took} ms after B stopped`)
  assert.ok(took <= 20_000, `took ${took} ms`)
  await waitFor('B, woken, knows it lost its locks', () => w.b.logs.some((l) => l.includes('PostgreSQL lock session lost')) || undefined, 15_000)

  // Votes now reach A only, and count once.
  const res = await w.a.post('/send-poll', { chatId: GROUP, question: 'After the hang?', options: ['Yes', 'No'] })
  assert.is(res.status, 200, JSON.stringify(res.body))
  const id = res.body.pollMsgId
  await waitFor('voters have the poll', () => w.voters.every((v) => v.receivedPoll(id)) || undefined)
  const t0 = Date.now()
  for (const [i, v] of w.voters.entries()) await v.vote({ pollId: id, options: [i % 2 ? 'Yes' : 'No'], senderTimestampMs: t0 + i })
  const want = { Yes: 3, No: 3 }
  await waitFor('A counts them', async () => JSON.stringify((await w.a.get(`/polls/${id}`)).body?.results) === JSON.stringify(want) || undefined, 15_000)
  await waitFor('B shows the same (its copy follows)', async () => JSON.stringify((await w.b.get(`/polls/${id}`)).body?.results) === JSON.stringify(want) || undefined, 15_000)
})

cluster.run()
