import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { guiSocket } from './harness/gui-socket.ts'
import { pairByQr } from './harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from './harness/server-process.ts'
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook-receiver.ts'

/**
 * Two WhatsApp accounts linked to one server at once (issue #14), through the real Baileys and
 * one fake WhatsApp serving two owners on one port (fake.addOwner): `default` (the GUI's
 * unprefixed paths and default Socket.IO namespace) and `shop` (POST /accounts, then
 * /accounts/shop/… and namespace /accounts/shop). Polls and votes to each, a logout of `shop`
 * while `default` keeps counting, a restart where both log in again without a QR, and nothing
 * of one account in any answer, event or webhook of the other. The scenarios run in order.
 */

const GROUP = '120363000000000001@g.us'
const SHOP_GROUP = '120363000000000002@g.us'
const PYTHON = '/usr/bin/python3'
const GUI_CLIENT = fileURLToPath(new URL('./gui-client.py', import.meta.url))

interface World {
  fake: FakeWhatsApp
  shopFake: FakeWhatsApp
  alice: FakeContact
  bob: FakeContact
  dave: FakeContact
  erin: FakeContact
  server: ServerProcess
  dataDir: string
  receiver: WebhookReceiver
  secret: string
  gui: ReturnType<typeof guiSocket>
  shopGui: ReturnType<typeof guiSocket>
  /** pollMsgIds by account */
  polls: { default: string[]; shop: string[] }
}

const accounts = suite<World>('several accounts: default and shop through the fake WhatsApp', {} as World)

const del = async (w: World, path: string) => {
  const res = await fetch(w.server.url + path, { method: 'DELETE' })
  return { status: res.status, body: await res.json() as any }
}
const pollsOf = async (w: World, prefix: string) => (await w.server.get(`${prefix}/get-all-poll-data`)).body.polls as Record<string, any>
const chatIdsOf = async (w: World, prefix: string) => ((await w.server.get(`${prefix}/get-chats`)).body.chats as Array<{ id: string }>).map((c) => c.id)
/** Waits until the poll's results equal `expected`. */
const results = (w: World, prefix: string, id: string, expected: Record<string, number>) =>
  waitFor(`${prefix || 'default'} ${id} results ${JSON.stringify(expected)}`, async () => {
    const p = (await pollsOf(w, prefix))[id]
    return p && JSON.stringify(p.results) === JSON.stringify(expected) ? p : undefined
  }, 15_000)
const statusOf = async (w: World, prefix: string) => (await w.server.get(`${prefix}/status`)).body

async function start(w: World, port?: number) {
  w.server = await startServer({
    waWsUrl: w.fake.url, dataDir: w.dataDir, port,
    env: { LOG_LEVEL: 'info', WEBHOOK_URL: w.receiver.url, WEBHOOK_SECRET: w.secret },
  })
}

/** Links `shop` as a user would: its QR from GET /accounts/shop/status, scanned by the shop's phone. */
async function pairShop(w: World) {
  const status = await waitFor('a QR on /accounts/shop/status', async () => {
    const s = await statusOf(w, '/accounts/shop')
    return s.status === 'qr_pending' && s.qrCode ? s : undefined
  }, 20_000)
  await w.shopFake.phone.scanQr(status.qrCode)
  return waitFor('shop ready', async () => {
    const s = await statusOf(w, '/accounts/shop')
    return s.status === 'ready' ? s : undefined
  }, 30_000)
}

accounts.before(async (w) => {
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000001', ownerLid: '900000000000001', ownerName: 'Default Owner', defaultTimeoutMs: 10_000 })
  w.alice = w.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  w.bob = w.fake.addContact({ pn: '15551110002', lid: '80000000002', name: 'Bob' })
  w.fake.addGroup({ id: GROUP, subject: 'Default club', participants: [w.alice, w.bob] })
  w.shopFake = w.fake.addOwner({ ownerPn: '15550000002', ownerLid: '900000000000002', ownerName: 'Shop Owner', defaultTimeoutMs: 10_000 })
  w.dave = w.shopFake.addContact({ pn: '15552220001', lid: '80000000101', name: 'Dave' })
  w.erin = w.shopFake.addContact({ pn: '15552220002', lid: '80000000102', name: 'Erin' })
  w.shopFake.addGroup({ id: SHOP_GROUP, subject: 'Shop regulars', participants: [w.dave, w.erin] })
  w.secret = `whsec_${randomBytes(32).toString('base64')}`
  w.receiver = await startWebhookReceiver({ secret: w.secret })
  w.dataDir = tempDir('pollwire-accounts-')
  w.polls = { default: [], shop: [] }
  await start(w)
  w.gui = guiSocket(w.server.url)
})

accounts.after(async (w) => {
  w.gui?.close()
  w.shopGui?.close()
  await w.server?.stop()
  await w.receiver?.close()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

accounts('default pairs as before; shop is created by POST /accounts and pairs by its own QR', async (w) => {
  await pairByQr(w.server, w.fake)
  const made = await w.server.post('/accounts', { id: 'shop' })
  assert.is(made.status, 201, JSON.stringify(made.body))
  assert.is((await w.server.post('/accounts', { id: 'shop' })).status, 409)
  assert.is((await w.server.post('/accounts', { id: 'Shop!' })).status, 400)
  w.shopGui = guiSocket(`${w.server.url}/accounts/shop`)
  const shop = await pairShop(w)
  assert.match(shop.user.id, /^15550000002:\d+@s\.whatsapp\.net$/)
  assert.match((await statusOf(w, '')).user.id, /^15550000001:\d+@s\.whatsapp\.net$/)
  const list = (await w.server.get('/accounts')).body.accounts
  assert.equal(list.map((a: any) => [a.id, a.status]), [['default', 'ready'], ['shop', 'ready']])
  assert.equal([w.fake.linkedDevices.length, w.shopFake.linkedDevices.length], [1, 1])
  // Each namespace showed its own account's pairing only.
  await waitFor('shop namespace ready', () => w.shopGui.of('client_status').includes('ready'))
  const shopQrs = w.shopGui.of('qr_code')
  assert.ok(shopQrs.length >= 1, 'the shop namespace got its QR')
  for (const qr of shopQrs) assert.not.ok(w.gui.of('qr_code').includes(qr), "shop's QR never reached the default namespace")
  assert.equal(w.shopGui.of('whatsapp_user').map((u: any) => u.id.split(':')[0]), ['15550000002'])
  await Promise.all([w.fake.waitForInitialSync({ timeoutMs: 20_000 }), w.shopFake.waitForInitialSync({ timeoutMs: 20_000 })])
})

accounts('each account lists its own chats', async (w) => {
  const [mine, theirs] = await waitFor('both chat lists', async () => {
    const a = await chatIdsOf(w, '')
    const b = await chatIdsOf(w, '/accounts/shop')
    return a.includes(GROUP) && a.includes(w.alice.pnJid) && b.includes(SHOP_GROUP) && b.includes(w.dave.pnJid) ? [a, b] : undefined
  }, 20_000)
  assert.not.ok(mine.some((id) => theirs.includes(id)), `no chat in both: ${mine} / ${theirs}`)
  assert.not.ok(mine.includes(w.dave.pnJid) || mine.includes(SHOP_GROUP))
  assert.not.ok(theirs.includes(w.alice.pnJid) || theirs.includes(GROUP))
})

accounts('polls and votes to each account stay with it: HTTP, Socket.IO and webhooks', async (w) => {
  const mine = await w.server.post('/send-poll', { chatId: GROUP, question: 'Default lunch?', options: ['Pizza', 'Salad'] })
  assert.is(mine.status, 200, JSON.stringify(mine.body))
  const theirs = await w.server.post('/accounts/shop/send-poll', { chatId: SHOP_GROUP, question: 'Shop hours?', options: ['Early', 'Late'] })
  assert.is(theirs.status, 200, JSON.stringify(theirs.body))
  w.polls.default.push(mine.body.pollMsgId)
  w.polls.shop.push(theirs.body.pollMsgId)
  await w.fake.waitForPoll(mine.body.pollMsgId)
  await w.shopFake.waitForPoll(theirs.body.pollMsgId)
  assert.is(w.shopFake.polls.find((p) => p.id === mine.body.pollMsgId), undefined, "default's poll went out on default's device only")
  assert.is(w.fake.polls.find((p) => p.id === theirs.body.pollMsgId), undefined)

  await waitFor('alice has the poll', () => w.alice.receivedPoll(mine.body.pollMsgId))
  await waitFor('dave has the poll', () => w.dave.receivedPoll(theirs.body.pollMsgId))
  await w.alice.vote({ pollId: mine.body.pollMsgId, options: ['Pizza'] })
  await w.dave.vote({ pollId: theirs.body.pollMsgId, options: ['Late'] })
  await w.erin.vote({ pollId: theirs.body.pollMsgId, options: ['Late'] })
  await results(w, '', mine.body.pollMsgId, { Pizza: 1, Salad: 0 })
  await results(w, '/accounts/shop', theirs.body.pollMsgId, { Early: 0, Late: 2 })

  assert.equal(Object.keys(await pollsOf(w, '')), w.polls.default)
  assert.equal(Object.keys(await pollsOf(w, '/accounts/default')), w.polls.default)
  assert.equal(Object.keys(await pollsOf(w, '/accounts/shop')), w.polls.shop)
  assert.is((await w.server.get(`/polls/${theirs.body.pollMsgId}/votes`)).status, 404)
  assert.is((await w.server.get(`/accounts/shop/polls/${mine.body.pollMsgId}`)).status, 404)
  const shopVotes = (await w.server.get(`/accounts/shop/polls/${theirs.body.pollMsgId}/votes`)).body.votes
  assert.equal(shopVotes.map((v: any) => v.status), ['counted', 'counted'])

  await waitFor('namespace updates', () =>
    w.gui.of('poll_update_to_gui').some((u) => u.pollMsgId === mine.body.pollMsgId)
    && w.shopGui.of('poll_update_to_gui').some((u) => u.pollMsgId === theirs.body.pollMsgId))
  const seenBy = (g: World['gui']) => new Set([...g.of('new_poll_sent'), ...g.of('poll_update_to_gui')].map((e) => e.pollMsgId))
  assert.not.ok(seenBy(w.gui).has(theirs.body.pollMsgId), "no shop poll on the GUI's namespace")
  assert.not.ok(seenBy(w.shopGui).has(mine.body.pollMsgId), 'no default poll on the shop namespace')

  const events = await waitFor('webhook votes of both', () => {
    const votes = w.receiver.events('poll.vote')
    return votes.some((e) => e.data.pollMsgId === mine.body.pollMsgId) && votes.filter((e) => e.data.pollMsgId === theirs.body.pollMsgId).length >= 2
      ? w.receiver.events() : undefined
  }, 20_000)
  assert.equal(w.receiver.signatureFailures(), [])
  for (const e of events.filter((x) => x.type.startsWith('poll.'))) {
    const owner = w.polls.shop.includes(e.data.pollMsgId) ? 'shop' : 'default'
    assert.is(e.data.account, owner, `${e.type} ${e.data.pollMsgId}`)
  }
  const shopStatus = events.filter((e) => e.type === 'session.status' && e.data.account === 'shop')
  assert.ok(shopStatus.some((e) => e.data.status === 'ready' && e.data.user.id.startsWith('15550000002')), 'session.status of shop carries its account')
})

accounts('a logout of shop does not stop default counting; shop pairs again', async (w) => {
  const [pollId] = w.polls.default
  const out = await w.server.post('/accounts/shop/logout', {})
  assert.is(out.status, 200)
  assert.equal(w.shopFake.linkedDevices, [], "shop's device is unlinked")
  assert.is(w.fake.linkedDevices.length, 1, "default's is not")
  await w.bob.vote({ pollId: pollId!, options: ['Salad'] })
  await results(w, '', pollId!, { Pizza: 1, Salad: 1 })
  assert.is((await statusOf(w, '')).status, 'ready')
  // At once, not instantly: the new connection's QR is a round trip to WhatsApp after the logout,
  // and default's vote (counted one commit after it arrives) can be faster than that.
  await waitFor('a fresh pairing of shop at once', async () => (await statusOf(w, '/accounts/shop')).status === 'qr_pending' || undefined, 5_000)
  assert.equal(Object.keys(await pollsOf(w, '/accounts/shop')), w.polls.shop, 'logout keeps the polls')
  await pairShop(w)
  await w.shopFake.waitForInitialSync({ timeoutMs: 20_000 })
})

accounts("a reconnect storm and a junk flood on shop do not hold back default's votes", async (w) => {
  const [pollId] = w.polls.default
  const [shopPoll] = w.polls.shop
  const shopBefore = (await pollsOf(w, '/accounts/shop'))[shopPoll!].results
  const defaultConnections = w.fake.openConnections
  const reconnects = async (account: string) =>
    Number(new RegExp(`^pollwire_reconnects_total\\{account="${account}"\\} (\\d+)$`, 'm').exec(await (await fetch(`${w.server.url}/metrics`)).text())?.[1])
  const [defaultBefore, shopReconnects] = [await reconnects('default'), await reconnects('shop')]
  // Anybody can send undecryptable votes: 150 of them at the shop's poll, while its link drops twice.
  const junk = Array.from({ length: 150 }, () => w.dave.vote({ pollId: shopPoll!, raw: { encPayload: randomBytes(48), encIv: randomBytes(12) } }))
  w.shopFake.dropConnections()
  const t0 = Date.now()
  await w.alice.vote({ pollId: pollId!, options: ['Salad'] })
  await results(w, '', pollId!, { Pizza: 0, Salad: 2 })
  const countedMs = Date.now() - t0
  await Promise.all(junk)
  await waitFor('shop back', async () => (await statusOf(w, '/accounts/shop')).status === 'ready', 30_000)
  w.shopFake.dropConnections()
  await w.bob.vote({ pollId: pollId!, options: ['Pizza'] })
  await results(w, '', pollId!, { Pizza: 1, Salad: 1 })
  await waitFor('shop back again', async () => (await statusOf(w, '/accounts/shop')).status === 'ready', 30_000)
  const history = await waitFor('the junk journaled', async () => {
    const votes = (await w.server.get(`/accounts/shop/polls/${shopPoll}/votes`)).body.votes as Array<{ status: string }>
    return votes.length >= 150 + 2 ? votes : undefined
  }, 30_000)
  assert.is(history.filter((v) => v.status === 'counted').length, 2, 'only the two real shop votes count')
  assert.equal((await pollsOf(w, '/accounts/shop'))[shopPoll!].results, shopBefore)
  assert.is(w.fake.openConnections, defaultConnections, "default's link was never dropped")
  assert.is((await statusOf(w, '')).status, 'ready')
  assert.ok(countedMs < 10_000, `default's vote counted in ${countedMs} ms during the storm`)
  assert.ok(await reconnects('shop') >= shopReconnects + 2, 'shop reconnected twice')
  assert.is(await reconnects('default'), defaultBefore, 'default did not reconnect')
})

accounts('after a restart both accounts log in without a QR; a vote cast while down is counted', async (w) => {
  const [shopPoll] = w.polls.shop
  const qrsBefore = w.gui.of('qr_code').length + w.shopGui.of('qr_code').length
  const port = w.server.port
  assert.is(await w.server.stop(), 0)
  await w.dave.vote({ pollId: shopPoll!, options: ['Early'], offline: true })
  await start(w, port)
  await waitFor('both ready again', async () =>
    (await statusOf(w, '')).status === 'ready' && (await statusOf(w, '/accounts/shop')).status === 'ready', 30_000)
  await results(w, '/accounts/shop', shopPoll!, { Early: 1, Late: 1 })
  assert.equal((await w.server.get('/accounts')).body.accounts.map((a: any) => a.id), ['default', 'shop'])
  assert.equal([w.fake.linkedDevices.length, w.shopFake.linkedDevices.length], [1, 1], 'no new device: no pairing')
  assert.is(w.gui.of('qr_code').length + w.shopGui.of('qr_code').length, qrsBefore, 'no QR shown after the restart')
  assert.ok(w.server.logs.some((l) => /accounts connecting/.test(l)), 'the accounts were started in turn')
  assert.equal(Object.keys(await pollsOf(w, '')), w.polls.default)
  assert.equal(Object.keys(await pollsOf(w, '/accounts/shop')), w.polls.shop)
})

accounts('the GUI-contract client (python-socketio + requests) works on the default paths beside shop', async (w) => {
  await waitFor('alice in the chat list', async () => (await chatIdsOf(w, '')).includes(w.alice.pnJid), 15_000)
  const child = spawn(PYTHON, [GUI_CLIENT, w.server.url, w.alice.pnJid], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  child.stdout.on('data', async (d) => {
    out += d
    const m = /POLL (\S+)/.exec(String(d))
    if (!m) return
    w.polls.default.push(m[1]!)
    await w.fake.waitForPoll(m[1]!, { timeoutMs: 10_000 })
    await waitFor('alice has the poll', () => w.alice.receivedPoll(m[1]!))
    await w.alice.vote({ pollId: m[1]!, options: ['Two'] })
  })
  const code = await exited
  clearTimeout(timer)
  assert.is(code, 0, `python client failed:\n${err}\n${out}`)
  assert.match(out, /OK/)
  assert.equal(Object.keys(await pollsOf(w, '/accounts/shop')), w.polls.shop, "the GUI's poll is not shop's")
})

accounts('DELETE /accounts/shop unlinks it and keeps default serving; its polls stay in the store', async (w) => {
  assert.is((await del(w, '/accounts/default')).status, 409)
  const gone = await del(w, '/accounts/shop')
  assert.is(gone.status, 200, JSON.stringify(gone.body))
  await waitFor('shop device unlinked', () => w.shopFake.linkedDevices.length === 0)
  assert.is((await w.server.get('/accounts/shop/status')).status, 404)
  assert.equal((await w.server.get('/accounts')).body.accounts.map((a: any) => a.id), ['default'])
  await waitFor('shop namespace cut', () => !w.shopGui.socket.connected)
  const [pollId] = w.polls.default
  await w.alice.vote({ pollId: pollId!, options: ['Pizza'] })
  await results(w, '', pollId!, { Pizza: 2, Salad: 0 })
  const metrics = await (await fetch(`${w.server.url}/metrics`)).text()
  assert.not.match(metrics, /account="shop"/)
  assert.match(metrics, /^pollwire_polls\{account="default"\} [1-9]/m)
})

accounts.run()
