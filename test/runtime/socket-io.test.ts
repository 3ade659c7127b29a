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

async function start(opts: { status?: 'ready' | 'qr_pending'; token?: string; foldUpdates?: boolean } = {}) {
  const emitter = createEmitter()
  const session = fakeSession({ status: opts.status ?? 'qr_pending', qr: 'QR1', user: { id: '1@s.whatsapp.net', name: 'Me' } })
  server = createServer()
  const attached = attachSocketIo(server, { session, polls: memoryPolls({ P1: samplePoll() }), emitter, log: silent, apiToken: opts.token ?? null, corsOrigins: [], foldUpdates: opts.foldUpdates })
  close = attached.close
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { emitter, url, attached }
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
  // An update emitted while the transport is busy (here with new_poll_sent) waits for it to drain,
  // so it may arrive after a later event of another kind.
  const later = new Map(seen.slice(3))
  assert.equal(later.get('new_poll_sent'), { pollMsgId: 'P2', pollData: samplePoll({ question: 'New?' }) })
  const p = samplePoll()
  assert.equal(later.get('poll_update_to_gui'), { pollMsgId: 'P1', results: p.results, question: p.question, options: p.options, voters: p.voters, selectableCount: 1 })
  assert.equal(later.get('client_status'), 'disconnected')
  assert.equal(seen.slice(3).filter(([e]) => e !== 'poll_update_to_gui').map(([e]) => e), ['new_poll_sent', 'client_status'])
})

sio('a client that keeps up gets every change at once; a burst while a send is pending folds into the newest state', async () => {
  const { url, emitter } = await start({ status: 'ready' })
  const { s, seen } = client(url)
  await until(() => seen.length >= 3 && s.connected)
  const updates = () => seen.filter(([e]) => e === 'poll_update_to_gui').map(([, p]) => p as { pollMsgId: string; results: Record<string, number> })
  for (let n = 1; n <= 5; n++) {
    emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: n, Blue: 0 } }))
    await until(() => updates().length >= n)
  }
  assert.equal(updates().map((u) => u.results.Red), [1, 2, 3, 4, 5], 'each change on its own, none held back')
  // In one tick: the first goes out at once, and the transport is busy with it for the rest.
  for (let n = 6; n <= 25; n++) emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: n, Blue: 0 } }))
  emitter.emit('poll:update', 'P2', samplePoll({ results: { Red: 0, Blue: 1 } }))
  await until(() => updates().some((u) => u.pollMsgId === 'P2') && updates().at(-1)!.results.Red === 25 || updates().filter((u) => u.pollMsgId === 'P1').at(-1)!.results.Red === 25)
  await new Promise((r) => setTimeout(r, 100))
  const burst = updates().slice(5)
  assert.equal(burst[0]!.results.Red, 6, 'the first change of the burst is not held back')
  assert.equal(burst.filter((u) => u.pollMsgId === 'P1').at(-1)!.results.Red, 25, 'the newest state arrives')
  assert.ok(burst.length < 10, `folded: ${burst.length} updates for 21 changes`)
  assert.equal(burst.filter((u) => u.pollMsgId === 'P2').map((u) => u.results.Blue), [1])
})

/**
 * Server-side bytes waiting for one client: engine.io's queue (serialized packets) plus what
 * the WebSocket holds above the kernel's buffers.
 */
function bufferedFor(attached: ReturnType<typeof attachSocketIo>, s: Socket): number {
  const sock = attached.io.of('/').sockets.get(s.id!)!
  const conn = sock.conn as unknown as { writeBuffer: Array<{ data?: unknown }>; transport: { socket?: { bufferedAmount: number } } }
  const queued = conn.writeBuffer.reduce((n, p) => n + (typeof p.data === 'string' ? p.data.length : 0), 0)
  return queued + (conn.transport.socket?.bufferedAmount ?? 0)
}

async function flood(foldUpdates: boolean) {
  const { url, emitter, attached } = await start({ status: 'ready', foldUpdates })
  const { s, seen } = client(url)
  await until(() => seen.length >= 3 && s.connected)
  // The client stops reading: its kernel buffers fill, then the server's.
  const tcp = (s.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket
  tcp.pause()
  const voters = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`${1e11 + i}@s.whatsapp.net`, ['Red']]))
  const POLLS = 10, ROUNDS = 200
  let peak = 0
  for (let r = 1; r <= ROUNDS; r++) {
    for (let p = 0; p < POLLS; p++) emitter.emit('poll:update', `F${p}`, samplePoll({ results: { Red: r, Blue: 0 }, voters }))
    await new Promise((res) => setImmediate(res))
    peak = Math.max(peak, bufferedFor(attached, s))
  }
  const payload = JSON.stringify(voters).length
  tcp.resume()
  const newest = () => {
    const last = new Map<string, number>()
    for (const [e, u] of seen) if (e === 'poll_update_to_gui') last.set((u as { pollMsgId: string }).pollMsgId, (u as { results: Record<string, number> }).results.Red!)
    return last
  }
  await until(() => newest().size === POLLS && [...newest().values()].every((v) => v === ROUNDS), 20_000)
  return { peak, payload, sent: POLLS * ROUNDS * payload }
}

sio('a client that does not read costs bounded memory and gets the newest state of every poll when it reads again', async () => {
  const { peak, payload, sent } = await flood(true)
  // At most one held update per poll, written when the transport drains: a few batches, not the flood.
  assert.ok(peak < 30 * payload, `buffered ${Math.round(peak / 1e6)} MB for ${Math.round(sent / 1e6)} MB of updates`)
})

sio('(the measure bites) without folding the same client makes the server buffer the flood', async () => {
  const { peak, payload } = await flood(false)
  assert.ok(peak > 100 * payload, `buffered ${Math.round(peak / 1e6)} MB`)
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
  type Change = { added: Acc } | { removed: string } | { replaced: Acc; announce: boolean }
  const listeners = new Set<(c: Change) => void>()
  const pool = {
    accounts,
    onChange: (fn: (c: Change) => void) => { listeners.add(fn); return () => { listeners.delete(fn) } },
    /** another object for the same account (several processes: a follower copy rebuilt) */
    replace(id: string) { const a = { ...make(id, id, `${id[0]}1`), id }; accounts.set(id, a); for (const fn of listeners) fn({ replaced: a, announce: false }); return a },
    add(id: string, name: string) { const a = make(id, name, `${name[0]}1`); accounts.set(id, a); for (const fn of listeners) fn({ added: a }); return a },
    remove(id: string) { accounts.delete(id); for (const fn of listeners) fn({ removed: id }) },
  }
  nspServer = createServer()
  const d = accounts.get('default')!
  const attached = attachSocketIo(nspServer, { ...d, log: silent, apiToken: opts.token ?? null, corsOrigins: [], hosts: opts.hosts, accounts: pool })
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

nsps('what a slow client holds survives its account being rebound (a follower copy replaced)', async () => {
  const { url, accounts, pool } = await startAccounts()
  const c = nspClient(`${url}/accounts/shop`)
  await until(() => c.seen.length >= 3 && c.s.connected)
  const tcp = (c.s.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket
  tcp.pause()
  const voters = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`${1e11 + i}@s.whatsapp.net`, ['Red']]))
  // Enough to fill the kernel's buffers, so the last ones are held here.
  for (let r = 1; r <= 300; r++) {
    accounts.get('shop')!.emitter.emit('poll:update', 'S1', samplePoll({ results: { Red: r, Blue: 0 }, voters }))
    await new Promise((res) => setImmediate(res))
  }
  pool.replace('shop')
  tcp.resume()
  const last = () => c.seen.filter(([e]) => e === 'poll_update_to_gui').map(([, u]) => (u as { results: Record<string, number> }).results.Red).at(-1)
  await until(() => last() === 300, 10_000)
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
