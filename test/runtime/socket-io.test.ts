import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import { attachSocketIo, originAllowed } from '../../runtime/socket-io.ts'
import { createEmitter } from '../../contract/events.ts'
import { fakeSession, memoryPolls, samplePoll, silent } from '../fakes.ts'

const sio = suite('attachSocketIo')
let server: Server
let close: () => Promise<void>
const clients: Socket[] = []

async function start(opts: { status?: 'ready' | 'qr_pending'; token?: string; updateIntervalMs?: number } = {}) {
  const emitter = createEmitter()
  const session = fakeSession({ status: opts.status ?? 'qr_pending', qr: 'QR1', user: { id: '1@s.whatsapp.net', name: 'Me' } })
  server = createServer()
  const attached = attachSocketIo(server, { session, polls: memoryPolls({ P1: samplePoll() }), emitter, log: silent, apiToken: opts.token ?? null, corsOrigins: [], updateIntervalMs: opts.updateIntervalMs })
  close = attached.close
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { emitter, url }
}

/** Records events in arrival order. */
function client(url: string, opts: Record<string, unknown> = {}) {
  const seen: Array<[string, unknown]> = []
  const s = connect(url, { transports: ['websocket'], reconnection: false, ...opts })
  clients.push(s)
  s.onAny((event, payload) => seen.push([event, payload]))
  return { s, seen }
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

sio.after.each(async () => {
  for (const c of clients.splice(0)) c.close()
  await close()
})

sio('a new client gets client_status, qr_code, then initial_poll_data', async () => {
  const { url } = await start()
  const { seen } = client(url)
  await until(() => seen.length >= 3)
  assert.equal(seen.map(([e]) => e), ['client_status', 'qr_code', 'initial_poll_data'])
  assert.is(seen[0]![1], 'qr_pending')
  assert.is(seen[1]![1], 'QR1')
  assert.equal(seen[2]![1], { P1: samplePoll() })
})

sio('when ready: client_status, whatsapp_user, initial_poll_data', async () => {
  const { url } = await start({ status: 'ready' })
  const { seen } = client(url)
  await until(() => seen.length >= 3)
  assert.equal(seen.map(([e]) => e), ['client_status', 'whatsapp_user', 'initial_poll_data'])
  assert.equal(seen[1]![1], { id: '1@s.whatsapp.net', name: 'Me' })
})

sio('session events are forwarded under the contract names and shapes', async () => {
  const { url, emitter } = await start()
  const { s, seen } = client(url)
  await until(() => seen.length >= 3)
  await until(() => s.connected)
  emitter.emit('poll:new', 'P2', samplePoll({ question: 'New?' }))
  emitter.emit('poll:update', 'P1', samplePoll())
  emitter.emit('status', 'connecting')
  await until(() => seen.length >= 6)
  assert.equal(seen[3], ['new_poll_sent', { pollMsgId: 'P2', pollData: samplePoll({ question: 'New?' }) }])
  const p = samplePoll()
  assert.equal(seen[4], ['poll_update_to_gui', { pollMsgId: 'P1', results: p.results, question: p.question, options: p.options, voters: p.voters, selectableCount: 1 }])
  assert.equal(seen[5], ['client_status', 'disconnected'])
})

sio('a burst of updates to one poll: the first at once, the rest folded into one with the newest state', async () => {
  const { url, emitter } = await start({ status: 'ready', updateIntervalMs: 100 })
  const { s, seen } = client(url)
  await until(() => seen.length >= 3 && s.connected)
  const updates = () => seen.filter(([e]) => e === 'poll_update_to_gui').map(([, p]) => p as { pollMsgId: string; results: Record<string, number> })
  for (let n = 1; n <= 20; n++) emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: n, Blue: 0 } }))
  emitter.emit('poll:update', 'P2', samplePoll({ results: { Red: 0, Blue: 1 } }))
  await until(() => updates().length >= 2)
  assert.equal(updates().map((u) => [u.pollMsgId, u.results.Red]), [['P1', 1], ['P2', 0]], 'the first change of each poll is not held back')
  await until(() => updates().length >= 3)
  assert.equal(updates()[2], { ...updates()[2]!, pollMsgId: 'P1', results: { Red: 20, Blue: 0 } }, 'then one update with the newest state')
  await new Promise((r) => setTimeout(r, 250))
  assert.is(updates().length, 3, 'nothing more once the poll is quiet')
  emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: 21, Blue: 0 } }))
  await until(() => updates().length >= 4)
  assert.is(updates()[3]!.results.Red, 21, 'a quiet poll updates at once again')
})

sio('with API_TOKEN, a connection needs auth.token', async () => {
  const { url } = await start({ token: 'tok-tok-tok-tok-tok' })
  const bad = client(url, { auth: { token: 'nope' } })
  const err = await new Promise<Error>((r) => bad.s.on('connect_error', r))
  assert.match(err.message, /unauthorized/)
  const good = client(url, { auth: { token: 'tok-tok-tok-tok-tok' } })
  await until(() => good.seen.length >= 3)
})

sio('foreign browser origins are refused', async () => {
  const { url } = await start()
  const foreign = client(url, { extraHeaders: { origin: 'https://evil.example' }, transports: ['polling'] })
  await new Promise<Error>((r) => foreign.s.on('connect_error', r))
  assert.is(foreign.seen.length, 0)
})

sio.run()

// ---

const nsps = suite('attachSocketIo: a namespace per account')
type Acc = { id: string; session: ReturnType<typeof fakeSession>; polls: ReturnType<typeof memoryPolls>; emitter: ReturnType<typeof createEmitter> }
let nspServer: Server
let nspClose: () => Promise<void>
const nspClients: Socket[] = []

async function startAccounts(opts: { token?: string; hosts?: { allowedHosts: string[] } | null } = {}) {
  const make = (id: string, name: string, poll: string): Acc => ({
    id, session: fakeSession({ status: 'ready', user: { id: `${name}@s.whatsapp.net`, name } }),
    polls: memoryPolls({ [poll]: samplePoll({ question: `${name}?` }) }), emitter: createEmitter(),
  })
  const accounts = new Map<string, Acc>([['default', make('default', 'Default', 'D1')], ['shop', make('shop', 'Shop', 'S1')]])
  const listeners = new Set<(c: { added: Acc } | { removed: string }) => void>()
  const pool = {
    accounts,
    onChange: (fn: (c: { added: Acc } | { removed: string }) => void) => { listeners.add(fn); return () => { listeners.delete(fn) } },
    add(id: string, name: string) { const a = make(id, name, `${name[0]}1`); accounts.set(id, a); for (const fn of listeners) fn({ added: a }); return a },
    remove(id: string) { accounts.delete(id); for (const fn of listeners) fn({ removed: id }) },
  }
  nspServer = createServer()
  const d = accounts.get('default')!
  const attached = attachSocketIo(nspServer, { ...d, log: silent, apiToken: opts.token ?? null, corsOrigins: [], hosts: opts.hosts, accounts: pool, updateIntervalMs: 0 })
  nspClose = attached.close
  await new Promise<void>((r) => nspServer.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(nspServer.address() as AddressInfo).port}`, pool, accounts }
}

function nspClient(url: string, opts: Record<string, unknown> = {}) {
  const seen: Array<[string, unknown]> = []
  const errors: string[] = []
  const s = connect(url, { transports: ['websocket'], reconnection: false, ...opts })
  nspClients.push(s)
  s.onAny((event, payload) => seen.push([event, payload]))
  s.on('connect_error', (err) => errors.push(err.message))
  return { s, seen, errors }
}

nsps.after.each(async () => {
  for (const c of nspClients.splice(0)) c.close()
  await nspClose()
})

nsps("/accounts/<id> carries that account's events only; the default namespace carries default's", async () => {
  const { url, accounts } = await startAccounts()
  const gui = nspClient(url)
  const shop = nspClient(`${url}/accounts/shop`)
  const dflt = nspClient(`${url}/accounts/default`)
  await until(() => gui.seen.length >= 3 && shop.seen.length >= 3 && dflt.seen.length >= 3 && shop.s.connected && gui.s.connected)
  assert.equal(shop.seen.map(([e]) => e), ['client_status', 'whatsapp_user', 'initial_poll_data'])
  assert.equal(shop.seen[1]![1], { id: 'Shop@s.whatsapp.net', name: 'Shop' })
  assert.equal(Object.keys(shop.seen[2]![1] as object), ['S1'])
  assert.equal(Object.keys(gui.seen[2]![1] as object), ['D1'])
  assert.equal(Object.keys(dflt.seen[2]![1] as object), ['D1'])
  accounts.get('shop')!.emitter.emit('poll:new', 'S2', samplePoll({ question: 'Shop two?' }))
  accounts.get('default')!.emitter.emit('poll:update', 'D1', samplePoll())
  await until(() => shop.seen.length >= 4 && gui.seen.length >= 4)
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(shop.seen.slice(3).map(([e, p]) => [e, (p as { pollMsgId: string }).pollMsgId]), [['new_poll_sent', 'S2']])
  assert.equal(gui.seen.slice(3).map(([e, p]) => [e, (p as { pollMsgId: string }).pollMsgId]), [['poll_update_to_gui', 'D1']])
})

nsps('an account added later gets its namespace; a removed one cuts its clients and refuses new ones', async () => {
  const { url, pool } = await startAccounts()
  assert.match((await new Promise<string>((r) => nspClient(`${url}/accounts/late`).s.on('connect_error', (e) => r(e.message)))), /Invalid namespace/)
  const late = pool.add('late', 'Late')
  const c = nspClient(`${url}/accounts/late`)
  await until(() => c.seen.length >= 3 && c.s.connected)
  late.emitter.emit('status', 'qr_pending')
  await until(() => c.seen.length >= 4)
  assert.equal(c.seen[3], ['client_status', 'qr_pending'])
  pool.remove('late')
  await until(() => !c.s.connected)
  late.emitter.emit('status', 'ready')
  const again = nspClient(`${url}/accounts/late`)
  await until(() => again.errors.length > 0)
  assert.match(again.errors[0]!, /Invalid namespace/)
  assert.equal(again.seen, [])
})

nsps("the token, the Origin and the Host checks hold for an account's namespace", async () => {
  const { url } = await startAccounts({ token: 'tok-tok-tok-tok-tok', hosts: { allowedHosts: ['pollwire.lan'] } })
  const noToken = nspClient(`${url}/accounts/shop`)
  await until(() => noToken.errors.length > 0)
  assert.match(noToken.errors[0]!, /unauthorized/)
  const foreign = nspClient(`${url}/accounts/shop`, { auth: { token: 'tok-tok-tok-tok-tok' }, extraHeaders: { origin: 'https://evil.example' }, transports: ['polling'] })
  await until(() => foreign.errors.length > 0)
  assert.equal(foreign.seen, [])
  // The Host check is the engine's (before any namespace is named): a rebound name never gets that far.
  const rebound = await new Promise<number | undefined>((resolve, reject) => {
    get(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { host: 'evil.example' } }, (res) => { res.resume(); resolve(res.statusCode) }).on('error', reject)
  })
  assert.is(rebound, 421)
  const good = nspClient(`${url}/accounts/shop`, { auth: { token: 'tok-tok-tok-tok-tok' } })
  await until(() => good.seen.length >= 3)
})

nsps.run()

const origin = suite('originAllowed')
origin('same-origin and listed origins only; localhost on another port is another origin', () => {
  assert.ok(originAllowed(undefined, 'x', []))
  assert.ok(originAllowed('http://pollwire.lan:3000', 'pollwire.lan:3000', []))
  assert.ok(originAllowed('http://localhost:3000', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://localhost:5173', 'pollwire.lan:3000', []))
  assert.not.ok(originAllowed('http://localhost:5173', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://127.0.0.1:8080', undefined, []))
  assert.ok(originAllowed('https://ok.example', undefined, ['https://ok.example']))
  assert.not.ok(originAllowed('https://evil.example', 'pollwire.lan:3000', []))
  assert.not.ok(originAllowed('null', undefined, []))
})
origin.run()
