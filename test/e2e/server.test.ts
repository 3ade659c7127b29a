import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { guiSocket } from './harness/gui-socket.ts'
import { pairByQr } from './harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * The whole server (real session runtime, real Baileys, real Signal sessions, real vote
 * crypto) against the fake WhatsApp, driven only through HTTP and Socket.IO as the GUI does.
 * The scenarios run in order and share one account, like a user's day.
 */

const GROUP = '120363000000000001@g.us'
const sha = (t: string) => createHash('sha256').update(t).digest('hex')

interface World {
  fake: FakeWhatsApp
  alice: FakeContact
  bob: FakeContact
  carol: FakeContact
  server: ServerProcess
  dataDir: string
  gui: ReturnType<typeof guiSocket>
  dm: string
  group: string
}

const e2e = suite<World>('pollwire server against the fake WhatsApp', {} as World)

const poll = async (w: World, id: string) => (await w.server.get('/get-all-poll-data')).body.polls[id]
/** Waits until the poll's results equal `expected` (they change only by votes, so this is exact). */
const results = async (w: World, id: string, expected: Record<string, number>) => {
  let last: unknown
  try {
    return await waitFor(`results ${JSON.stringify(expected)}`, async () => {
      const p = await poll(w, id)
      last = p?.results
      return p && JSON.stringify(p.results) === JSON.stringify(expected) ? p : undefined
    }, 10_000)
  } catch (err) {
    const { body } = await w.server.get(`/polls/${id}/votes`)
    throw new Error(`${(err as Error).message}; last ${JSON.stringify(last)}; history ${JSON.stringify(body.votes)}`)
  }
}

e2e.before(async (w) => {
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000001', ownerLid: '900000000000001', ownerName: 'Poll Owner' })
  w.alice = w.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  w.bob = w.fake.addContact({ pn: '15551110002', lid: '80000000002', name: 'Bob' })
  w.carol = w.fake.addContact({ pn: '15551110003', lid: '80000000003', name: 'Carol' })
  w.fake.addGroup({ id: GROUP, subject: 'Lunch club', participants: [w.alice, w.bob, w.carol] })
  w.dataDir = tempDir()
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir })
  w.gui = guiSocket(w.server.url)
})

e2e.after(async (w) => {
  w.gui?.close()
  await w.server?.stop()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

e2e('pairs by the QR from GET /status, through the 515 restart, to ready', async (w) => {
  const status = await pairByQr(w.server, w.fake)
  assert.is(status.qrCode, null)
  assert.match(status.user.id, /^15550000001(:\d+)?@s\.whatsapp\.net$/)
  // Socket.IO is another connection than the HTTP that said ready (on PostgreSQL its adapter
  // publishes each event before delivering it): the event may come a moment later.
  await waitFor('the GUI sees ready', () => w.gui.of('client_status').at(-1) === 'ready')
  // The GUI may connect before the first socket to WhatsApp opens: 'disconnected' first is fine.
  const seen = w.gui.of('client_status').filter((s: string) => s !== 'disconnected')
  assert.is(seen[0], 'qr_pending', 'the GUI saw the pairing state before ready')
  assert.is(seen[seen.length - 1], 'ready')
  assert.ok(w.gui.of('qr_code').length >= 1, 'the GUI got the QR')
  assert.ok(w.gui.of('whatsapp_user').length >= 1, 'the GUI got the user')
})

e2e('the chat list holds the fake group and contacts, sorted by name', async (w) => {
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  const chats = await waitFor('group and contacts', async () => {
    const { body } = await w.server.get('/get-chats')
    const ids = body.chats.map((c: { id: string }) => c.id)
    return ids.includes(GROUP) && ids.includes(w.alice.pnJid) ? body.chats : undefined
  }, 15_000)
  assert.equal(chats.find((c: any) => c.id === GROUP), { id: GROUP, name: 'Lunch club', isGroup: true })
  assert.equal(chats.find((c: any) => c.id === w.alice.pnJid), { id: w.alice.pnJid, name: 'Alice', isGroup: false })
  const names = chats.map((c: any) => c.name.toLowerCase())
  assert.equal(names, [...names].sort((a: string, b: string) => a.localeCompare(b)))
  assert.not.ok(chats.some((c: any) => c.id.startsWith('15550000001')), 'our own account is not a chat')
})

e2e('a single-select poll to a contact reaches them and is announced to the GUI', async (w) => {
  const res = await w.server.post('/send-poll', { chatId: w.alice.pnJid, question: 'Coffee?', options: ['Yes', 'No'], allowMultipleAnswers: false })
  assert.is(res.status, 200)
  assert.is(res.body.success, true)
  w.dm = res.body.pollMsgId
  await w.fake.waitForPoll(w.dm, { timeoutMs: 10_000 })
  const got = await waitFor('alice decrypts the poll', () => w.alice.receivedPoll(w.dm))
  assert.is(got.question, 'Coffee?')
  assert.equal(got.options, ['Yes', 'No'])
  assert.is(got.selectableCount, 1)
  const announced = await waitFor('new_poll_sent', () => w.gui.of('new_poll_sent').find((e) => e.pollMsgId === w.dm))
  assert.equal(announced.pollData.options, ['Yes', 'No'])
  assert.is(announced.pollData.selectableCount, 1)
  assert.equal(announced.pollData.results, { Yes: 0, No: 0 })
})

e2e('a multi-select poll to a group reaches every member', async (w) => {
  const res = await w.server.post('/send-poll', { chatId: GROUP, question: 'Lunch?', options: ['Pizza', 'Sushi', 'Tacos'], allowMultipleAnswers: true })
  assert.is(res.status, 200)
  w.group = res.body.pollMsgId
  await w.fake.waitForPoll(w.group, { timeoutMs: 10_000 })
  for (const c of [w.alice, w.bob, w.carol]) {
    const p = await waitFor(`${c.name} decrypts`, () => c.receivedPoll(w.group))
    assert.is(p.selectableCount, 0)
    assert.is(p.isGroup, true)
  }
  const p = await poll(w, w.group)
  assert.is(p.chatId, GROUP)
  assert.is(p.selectableCount, 0)
  assert.equal(p.optionHashes, { [sha('Pizza')]: 'Pizza', [sha('Sushi')]: 'Sushi', [sha('Tacos')]: 'Tacos' })
  assert.ok(p.timestamp > 1_700_000_000_000, 'timestamp in milliseconds')
})

e2e('a vote counts, a changed vote replaces it, and the GUI sees each change', async (w) => {
  await w.alice.vote({ pollId: w.dm, options: ['Yes'] })
  await results(w, w.dm, { Yes: 1, No: 0 })
  await w.alice.vote({ pollId: w.dm, options: ['No'] })
  const p = await results(w, w.dm, { Yes: 0, No: 1 })
  assert.equal(p.voters, { [w.alice.pnJid]: [sha('No')] })
  const updates = await waitFor('two GUI updates', () => {
    const u = w.gui.of('poll_update_to_gui').filter((e) => e.pollMsgId === w.dm)
    return u.length >= 2 ? u : undefined
  })
  assert.equal(updates[updates.length - 1], {
    pollMsgId: w.dm, results: { Yes: 0, No: 1 }, question: 'Coffee?', options: ['Yes', 'No'],
    voters: { [w.alice.pnJid]: [sha('No')] }, selectableCount: 1,
  })
  const metrics = await (await fetch(`${w.server.url}/metrics`)).text()
  assert.match(metrics, /^pollwire_votes_decrypted_total\{account="default"\} [2-9]/m)
  assert.match(metrics, /^pollwire_votes_received_total\{account="default",source="signal"\} [2-9]/m)
})

e2e('group votes: multi-select, retract, duplicate, late older vote', async (w) => {
  // In the past, so that every later vote of this run is newer.
  const t0 = Date.now() - 10_000
  await w.alice.vote({ pollId: w.group, options: ['Pizza', 'Tacos'], senderTimestampMs: t0 })
  await w.bob.vote({ pollId: w.group, options: ['Sushi'], senderTimestampMs: t0 })
  await w.carol.vote({ pollId: w.group, options: ['Pizza'], senderTimestampMs: t0, times: 2 })
  await results(w, w.group, { Pizza: 2, Sushi: 1, Tacos: 1 })
  // bob retracts; alice's older vote arrives after her newer one and must not win
  await w.bob.vote({ pollId: w.group, options: [], senderTimestampMs: t0 + 1000 })
  await w.alice.vote({ pollId: w.group, options: ['Sushi'], senderTimestampMs: t0 - 60_000 })
  // The older vote leaves the tally as it was: wait until it was read, or the tally proves nothing.
  const body = await waitFor('alice\'s older vote in the journal', async () => {
    const { body } = await w.server.get(`/polls/${w.group}/votes`)
    return body?.votes?.some((v: any) => v.senderTimestamp === t0 - 60_000) ? body : undefined
  })
  const p = await results(w, w.group, { Pizza: 2, Sushi: 0, Tacos: 1 })
  assert.equal(Object.keys(p.voters).sort(), [w.alice.pnJid, w.carol.pnJid].sort())
  assert.equal(p.voters[w.alice.pnJid], [sha('Pizza'), sha('Tacos')])
  const statuses = body.votes.map((v: any) => v.status)
  assert.ok(statuses.includes('late'), `a late vote in ${statuses}`)
  assert.ok(statuses.includes('duplicate') || body.votes.filter((v: any) => v.voter === w.carol.pnJid).length === 1, 'the duplicate is not counted twice')
})

e2e('one person voting by phone number, then by LID, is one voter', async (w) => {
  const t = Date.now()
  await w.bob.vote({ pollId: w.dm, options: ['Yes'], messageSecret: w.alice.receivedPoll(w.dm)!.messageSecret, addressing: 'pn', senderTimestampMs: t })
  await results(w, w.dm, { Yes: 1, No: 1 })
  await w.bob.vote({ pollId: w.dm, options: ['No'], messageSecret: w.alice.receivedPoll(w.dm)!.messageSecret, addressing: 'lid', senderTimestampMs: t + 1 })
  const p = await results(w, w.dm, { Yes: 0, No: 2 })
  assert.equal(Object.keys(p.voters).sort(), [w.alice.pnJid, w.bob.pnJid].sort())
})

e2e('a vote signed with the LID but delivered by phone number still counts', async (w) => {
  await w.carol.vote({ pollId: w.group, options: ['Sushi'], addressing: 'pn', voterJid: 'lid', creatorJid: 'lid' })
  const p = await results(w, w.group, { Pizza: 1, Sushi: 1, Tacos: 1 })
  assert.equal(p.voters[w.carol.pnJid], [sha('Sushi')])
})

e2e('votes sent while the server is down arrive offline and count after restart, with no new QR', async (w) => {
  assert.is(await w.server.stop(), 0, 'clean exit on SIGTERM')
  await w.alice.vote({ pollId: w.group, options: ['Tacos'], offline: true })
  await w.bob.vote({ pollId: w.group, options: ['Pizza', 'Sushi'], offline: true })
  w.gui.close()
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir })
  w.gui = guiSocket(w.server.url)
  await waitFor('ready without pairing', async () => (await w.server.get('/status')).body.status === 'ready', 20_000)
  assert.is(w.gui.of('qr_code').length, 0, 'no QR after a restart')
  await results(w, w.group, { Pizza: 1, Sushi: 2, Tacos: 1 })
  const initial = w.gui.of('initial_poll_data')[0]
  assert.ok(initial[w.dm] && initial[w.group], 'the GUI gets every poll on connect')
})

e2e('kill -9 and restart: polls, secrets and votes survive; new votes count', async (w) => {
  const before = (await w.server.get('/get-all-poll-data')).body.polls
  await w.server.kill9()
  w.gui.close()
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir })
  w.gui = guiSocket(w.server.url)
  await waitFor('ready without pairing', async () => (await w.server.get('/status')).body.status === 'ready', 20_000)
  assert.equal((await w.server.get('/get-all-poll-data')).body.polls, before)
  await w.carol.vote({ pollId: w.dm, options: ['Yes'], messageSecret: w.alice.receivedPoll(w.dm)!.messageSecret })
  await results(w, w.dm, { Yes: 1, No: 2 })
  assert.is(w.gui.of('qr_code').length, 0)
})

e2e('a dropped connection comes back by itself', async (w) => {
  const connections = w.fake.connectionCount
  w.fake.dropConnections()
  await waitFor('disconnected', async () => (await w.server.get('/status')).body.status !== 'ready', 5000)
  await waitFor('ready again', async () => (await w.server.get('/status')).body.status === 'ready', 20_000)
  assert.ok(w.fake.connectionCount > connections)
  await w.bob.vote({ pollId: w.dm, options: [], messageSecret: w.alice.receivedPoll(w.dm)!.messageSecret })
  await results(w, w.dm, { Yes: 1, No: 1 })
})

e2e('logout through the API shows a new QR without a restart; pairing again works', async (w) => {
  const res = await w.server.post('/logout', {})
  assert.is(res.status, 200)
  assert.is(res.body.success, true)
  await waitFor('a new QR', async () => {
    const s = await w.server.get('/status')
    return s.body.status === 'qr_pending' && s.body.qrCode ? true : undefined
  }, 15_000)
  assert.ok((await w.server.get('/get-all-poll-data')).body.polls[w.dm], 'polls are kept')
  await pairByQr(w.server, w.fake)
})

e2e('401 from WhatsApp: logged_out, credentials cleared, a fresh QR', async (w) => {
  const qrs = w.gui.of('qr_code').length
  w.fake.streamError(401)
  await waitFor('logged_out or a fresh QR', async () => {
    const s = await w.server.get('/status')
    return s.body.status === 'qr_pending' && w.gui.of('qr_code').length > qrs ? true : undefined
  }, 20_000)
  assert.ok(w.gui.of('client_status').includes('logged_out'))
})

e2e.run()
