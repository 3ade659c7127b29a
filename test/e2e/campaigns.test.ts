import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { FakeContact, FakeWhatsApp, PollRecord, StanzaRecord } from './fake-wa/index.ts'
import { startFakeWhatsApp } from './fake-wa/index.ts'
import { readyWithoutQr } from './crash/crash-kit.ts'
import { guiSocket } from './harness/gui-socket.ts'
import { pairByQr } from './harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * Campaigns end to end (issue #17): the real server and real Baileys against the fake WhatsApp.
 *
 * a. One contact and two groups, Alice in both groups: every chat gets exactly one poll;
 *    Alice's votes count once in `results` (her newest), once per group in `perChat`; her
 *    retraction in one group leaves the other vote standing; Socket.IO `campaign_update`
 *    carries the combined result; results.csv lists it.
 * b. Cancel stops further sends; pause and resume.
 * c. Bad input: 400 naming the field, nothing stored.
 * d. kill -9 twice during a 30-chat campaign, each time the instant a campaign poll's stanza
 *    reached the fake WhatsApp (sent, its outcome maybe not yet written): after the restarts every chat
 *    holds exactly one poll (the fake counts distinct messages per chat), none missing.
 *
 * Run: node --import tsx node_modules/uvu/bin.js test/e2e "campaigns\.test\.ts$"
 */

const G1 = '120363000000000171@g.us'
const G2 = '120363000000000172@g.us'
/** the pause between sends (ms) and the per-minute cap, small and large for the test */
const FAST = { min: 0, max: 30 }
const ENV = { LOG_LEVEL: 'info', CAMPAIGN_MAX_PER_MIN: '1000' }

interface World {
  fake: FakeWhatsApp
  server: ServerProcess
  dataDir: string
  alice: FakeContact
  bob: FakeContact
  carol: FakeContact
  dave: FakeContact
  gui: ReturnType<typeof guiSocket>
  campaignId: string
  polls: Record<string, string>
}

/** The campaign as GET /campaigns/:id shows it. */
const campaignOf = async (server: ServerProcess, id: string) => {
  const res = await server.get(`/campaigns/${id}`)
  assert.is(res.status, 200, JSON.stringify(res.body))
  return res.body.campaign
}

const finished = (server: ServerProcess, id: string, ms = 30_000) =>
  waitFor(`campaign ${id} to finish`, async () => {
    const k = await campaignOf(server, id)
    return k.status === 'done' || k.status === 'cancelled' ? k : undefined
  }, ms)

/** Distinct poll messages the fake WhatsApp received per chat (a re-sent message with the same id counts once, as a phone shows it once). */
function pollsPerChat(fake: FakeWhatsApp, ids: Set<string>, chatOf: (to: string) => string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const p of fake.polls as PollRecord[]) {
    if (!ids.has(p.id)) continue
    const chat = chatOf(p.to)
    if (!out.has(chat)) out.set(chat, new Set())
    out.get(chat)!.add(p.id)
  }
  return out
}

const e2e = suite<World>('campaigns: one poll to many chats, one combined result', {} as World)

e2e.before(async (w) => {
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000171', ownerLid: '900000000000171', ownerName: 'Campaign Owner' })
  w.alice = w.fake.addContact({ pn: '15551710001', lid: '80000001711', name: 'Alice' })
  w.bob = w.fake.addContact({ pn: '15551710002', lid: '80000001712', name: 'Bob' })
  w.carol = w.fake.addContact({ pn: '15551710003', lid: '80000001713', name: 'Carol' })
  w.dave = w.fake.addContact({ pn: '15551710004', lid: '80000001714', name: 'Dave' })
  w.fake.addGroup({ id: G1, subject: 'Lunch one', participants: [w.alice, w.bob] })
  w.fake.addGroup({ id: G2, subject: 'Lunch two', participants: [w.alice, w.carol] })
  w.dataDir = tempDir('pollwire-campaigns-')
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: ENV })
  await pairByQr(w.server, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  w.gui = guiSocket(w.server.url)
})

e2e.after(async (w) => {
  w.gui?.close()
  await w.server?.stop()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

e2e('c: bad input is a 400 naming the field, and nothing is stored', async (w) => {
  const base = { question: 'Lunch?', options: ['Pizza', 'Sushi'] }
  const cases: Array<[object, RegExp]> = [
    [{ ...base, chatIds: [] }, /^chatIds must hold 1 to 1,000/],
    [{ ...base, chatIds: Array.from({ length: 1001 }, (_, i) => `${120363000000100000 + i}@g.us`) }, /^chatIds must hold 1 to 1,000 chats, got 1001/],
    [{ ...base, chatIds: [G1, 'not-a-jid'] }, /^chatIds\[1\] must be a WhatsApp JID/],
    [{ ...base, chatIds: [G1, G2, G1] }, /^chatIds\[2\] repeats chatIds\[0\]/],
    [{ ...base, chatIds: [G1], delayMs: { min: 5000, max: 1000 } }, /^delayMs\.min must not exceed delayMs\.max/],
    [{ ...base, chatIds: [G1], options: [] }, /^options /],
  ]
  for (const [body, message] of cases) {
    const res = await w.server.post('/campaigns', body)
    assert.is(res.status, 400, JSON.stringify(body).slice(0, 80))
    assert.match(res.body.message, message)
  }
  assert.equal((await w.server.get('/campaigns')).body, { success: true, campaigns: [] })
})

e2e('a: every chat gets one poll; a person in both groups counts once, her retraction leaves the other vote standing', async (w) => {
  const res = await w.server.post('/campaigns', { chatIds: [w.dave.pnJid, G1, G2], question: 'Lunch?', options: ['Pizza', 'Sushi'], delayMs: FAST })
  assert.is(res.status, 202, JSON.stringify(res.body))
  assert.is(res.body.total, 3)
  w.campaignId = res.body.campaignId
  const k = await finished(w.server, w.campaignId)
  assert.is(k.status, 'done')
  assert.equal([k.sent, k.failed, k.total], [3, 0, 3])
  assert.equal(k.chats.map((c: any) => [c.chatId, c.name, c.state]), [[w.dave.pnJid, 'Dave', 'sent'], [G1, 'Lunch one', 'sent'], [G2, 'Lunch two', 'sent']])
  w.polls = Object.fromEntries(k.chats.map((c: any) => [c.chatId, c.pollMsgId]))
  const ids = new Set(Object.values(w.polls))
  await waitFor('the fake received every poll', () => [...ids].every((id) => w.fake.polls.some((p) => p.id === id)) || undefined)
  const perChat = pollsPerChat(w.fake, ids, (to) => (to === w.dave.lidJid ? w.dave.pnJid : to))
  assert.equal([...perChat].map(([chat, set]) => [chat, set.size]).sort(), [[G1, 1], [G2, 1], [w.dave.pnJid, 1]].sort())
  // Every poll of a campaign is an ordinary poll too.
  const all = (await w.server.get('/get-all-poll-data')).body.polls
  for (const id of ids) assert.is(all[id]?.question, 'Lunch?')

  const t0 = Date.now()
  await waitFor('Alice has both group polls', () => (w.alice.receivedPoll(w.polls[G1]!) && w.alice.receivedPoll(w.polls[G2]!)) || undefined)
  await waitFor('Dave has his poll', () => w.dave.receivedPoll(w.polls[w.dave.pnJid]!) || undefined)
  await w.alice.vote({ pollId: w.polls[G1]!, options: ['Pizza'], senderTimestampMs: t0 + 1 })
  await w.alice.vote({ pollId: w.polls[G2]!, options: ['Sushi'], senderTimestampMs: t0 + 2 })
  await w.bob.vote({ pollId: w.polls[G1]!, options: ['Sushi'], senderTimestampMs: t0 + 3 })
  await w.dave.vote({ pollId: w.polls[w.dave.pnJid]!, options: ['Pizza'], senderTimestampMs: t0 + 4 })
  const counted = await waitFor('four votes counted', async () => {
    const c = await campaignOf(w.server, w.campaignId)
    // Every vote in (Alice's in group 2 too: a group's first message can take a retry round trip).
    return c.voters === 3 && c.perChat[G1].Pizza + c.perChat[G1].Sushi === 2 && c.perChat[G2].Sushi === 1 ? c : undefined
  }, 15_000)
  assert.equal(counted.results, { Pizza: 1, Sushi: 2 }, 'Alice once (Sushi, her newest), Bob Sushi, Dave Pizza')
  assert.equal(counted.perChat, { [w.dave.pnJid]: { Pizza: 1, Sushi: 0 }, [G1]: { Pizza: 1, Sushi: 1 }, [G2]: { Pizza: 0, Sushi: 1 } })

  await w.alice.vote({ pollId: w.polls[G2]!, options: [], senderTimestampMs: t0 + 5 })
  const after = await waitFor('the retraction counted', async () => {
    const c = await campaignOf(w.server, w.campaignId)
    return c.perChat[G2].Sushi === 0 ? c : undefined
  }, 15_000)
  assert.equal(after.results, { Pizza: 2, Sushi: 1 }, 'Alice falls back to Pizza, what group 1 still shows')
  assert.equal(after.perChat[G1], { Pizza: 1, Sushi: 1 }, 'group 1 untouched')
  assert.is(after.voters, 3)

  const update = await waitFor('campaign_update with the combined result', () =>
    w.gui.of('campaign_update').filter((u: any) => u.campaignId === w.campaignId).find((u: any) => u.results.Pizza === 2 && u.results.Sushi === 1))
  assert.equal(update, { campaignId: w.campaignId, status: 'done', sent: 3, failed: 0, total: 3, results: { Pizza: 2, Sushi: 1 }, voters: 3 })

  const csv = await (await fetch(`${w.server.url}/campaigns/${w.campaignId}/results.csv`)).text()
  assert.match(csv, /^option,votes\r\nPizza,2\r\nSushi,1\r\n/)
  assert.match(csv, new RegExp(`${w.alice.pnJid},Pizza,${G1.replace(/\./g, '\\.')},${t0 + 1}`))
  const listed = (await w.server.get('/campaigns')).body.campaigns
  assert.equal(listed.map((c: any) => [c.id, c.status, c.voters]), [[w.campaignId, 'done', 3]])
})

e2e('b: pause holds the sends, resume goes on, cancel stops for good', async (w) => {
  const chats = [w.alice.pnJid, w.bob.pnJid, w.carol.pnJid, w.dave.pnJid, G1, G2]
  const res = await w.server.post('/campaigns', { chatIds: chats, question: 'Dinner?', options: ['Early', 'Late'], delayMs: { min: 400, max: 400 } })
  assert.is(res.status, 202)
  const id = res.body.campaignId
  await waitFor('the first chat sent', async () => (await campaignOf(w.server, id)).sent >= 1 || undefined)
  assert.is((await w.server.post(`/campaigns/${id}/pause`, undefined)).body.status, 'paused')
  const paused = await campaignOf(w.server, id)
  await new Promise((r) => setTimeout(r, 1000))
  const still = await campaignOf(w.server, id)
  assert.is(still.sent, paused.sent, 'nothing sent while paused')
  assert.is(still.status, 'paused')
  assert.is((await w.server.post(`/campaigns/${id}/resume`, undefined)).body.status, 'running')
  await waitFor('one more sent after resume', async () => (await campaignOf(w.server, id)).sent > still.sent || undefined)
  const cancel = await w.server.post(`/campaigns/${id}/cancel`, undefined)
  assert.is(cancel.status, 200)
  assert.is(cancel.body.status, 'cancelled')
  const stopped = await campaignOf(w.server, id)
  await new Promise((r) => setTimeout(r, 1000))
  const end = await campaignOf(w.server, id)
  assert.is(end.sent, stopped.sent, 'nothing sent after the cancel')
  assert.ok(end.sent < chats.length, `cancel came before the end (${end.sent} sent)`)
  assert.ok(end.chats.filter((c: any) => c.state === 'cancelled').length >= 1)
  const sentIds = new Set(end.chats.filter((c: any) => c.pollMsgId).map((c: any) => c.pollMsgId))
  const received = w.fake.polls.filter((p) => sentIds.has(p.id)).length
  assert.ok(received <= end.sent + 1, 'the fake received no poll of a cancelled chat')
  assert.is((await w.server.post(`/campaigns/${id}/resume`, undefined)).status, 409, 'a cancelled campaign stays cancelled')
  assert.is((await w.server.post('/campaigns/cmp_nope/pause', undefined)).status, 404)
})

e2e.run()

// ---- d: kill -9 during a 30-chat campaign ---------------------------------------------------------

interface CrashWorld { fake: FakeWhatsApp; server: ServerProcess; dataDir: string; contacts: FakeContact[] }

const crash = suite<CrashWorld>('campaigns: kill -9 during a 30-chat campaign', {} as CrashWorld)
const CHATS = 30
/** kill the server the instant the stanza of the campaign's n-th distinct poll arrives */
const KILL_AT = [7, 18]

crash.before(async (w) => {
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000172', ownerLid: '900000000000172', ownerName: 'Crash Owner' })
  w.contacts = Array.from({ length: CHATS }, (_, i) =>
    w.fake.addContact({ pn: `155517200${String(i).padStart(2, '0')}`, lid: `8000000172${String(i).padStart(2, '0')}`, name: `Member ${i}` }))
  w.dataDir = tempDir('pollwire-campaign-crash-')
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: ENV })
  await pairByQr(w.server, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
})

crash.after(async (w) => {
  await w.server?.kill9()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

crash('every chat ends with exactly one poll, none twice, none missing', async (w) => {
  const chatIds = w.contacts.map((c) => c.pnJid)
  const byJid = new Map(w.contacts.flatMap((c) => [[c.pnJid, c.pnJid], [c.lidJid, c.pnJid]]))
  const res = await w.server.post('/campaigns', { chatIds, question: 'Crash?', options: ['Yes', 'No'], delayMs: { min: 0, max: 60 } })
  assert.is(res.status, 202)
  const id = res.body.campaignId
  const seen = new Set<string>()
  const kills: number[] = []
  for (const at of KILL_AT) {
    // Synchronously when the poll's stanza arrives: it went out, and whether its outcome is
    // written yet is a race the restart must not care about.
    const killed = new Promise<void>((resolve) => {
      const onStanza = (s: StanzaRecord) => {
        if (s.direction !== 'from-client' || s.node.tag !== 'message' || s.node.attrs.type !== 'poll') return
        seen.add(s.node.attrs.id ?? '')
        if (seen.size < at) return
        w.server.proc.kill('SIGKILL')
        w.fake.events.off('stanza', onStanza)
        kills.push(seen.size)
        resolve()
      }
      w.fake.events.on('stanza', onStanza)
    })
    await killed
    await w.server.kill9()
    w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: ENV })
    await readyWithoutQr(w.server)
  }
  const k = await finished(w.server, id, 60_000)
  assert.is(k.status, 'done')
  assert.equal([k.sent, k.failed, k.total], [CHATS, 0, CHATS])
  const ids = new Set<string>(k.chats.map((c: any) => c.pollMsgId))
  assert.is(ids.size, CHATS, 'one poll id per chat')
  await waitFor('the fake received every poll', () => [...ids].every((i) => w.fake.polls.some((p) => p.id === i)) || undefined)
  const perChat = pollsPerChat(w.fake, ids, (to) => byJid.get(to) ?? to)
  const wrong = chatIds.filter((c) => perChat.get(c)?.size !== 1).map((c) => `${c}: ${perChat.get(c)?.size ?? 0}`)
  assert.equal(wrong, [], 'every chat holds exactly one poll')
  // Nothing else reached these chats: no poll of the campaign outside its ids.
  const strays = w.fake.polls.filter((p) => !ids.has(p.id) && byJid.has(p.to))
  assert.equal(strays.map((p) => p.id), [], 'no second poll with another id')
  const resent = w.fake.polls.filter((p) => ids.has(p.id)).length - ids.size
  console.log(`\n  kills after campaign polls ${kills.join(', ')}; messages re-sent with their own id: ${resent}`)
})

crash.run()
