import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmitter } from '../../contract/events.ts'
import type { Account } from '../../core/account.ts'
import { createAccountPool, type AccountPoolDeps } from '../../runtime/accounts.ts'
import { createApp, type App } from '../../runtime/app.ts'
import { parseConfig } from '../../runtime/config.ts'
import { createMemoryStore } from '../../store/memory/index.ts'
import { fakeSocketFactory, type FakeSocket } from '../core/whatsapp/fake-socket.ts'
import { fakeSession, memoryPolls, silent } from '../fakes.ts'

// --- the pool alone: fake accounts, fake timers

/** An account that records what the pool does to it. */
function fakeAccount(id: string, log: string[]) {
  const session = fakeSession({ status: 'qr_pending' })
  const account = {
    id, emitter: createEmitter(), polls: memoryPolls(),
    session: Object.assign(session, {
      start() {}, stop() {}, lastDisconnect: () => undefined,
      async logout(opts?: { pairAgain?: boolean }) { log.push(`${id}:logout:${opts?.pairAgain}`) },
    }),
    start: () => log.push(`${id}:start`),
    close: async () => { log.push(`${id}:close`) },
  }
  return account as unknown as Account
}

function poolWorld(over: Partial<AccountPoolDeps> = {}) {
  const log: string[] = []
  const store = createMemoryStore()
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = []
  const pool = createAccountPool({
    store: {
      accounts: () => store.accounts(),
      addAccount: (id) => store.addAccount(id),
      removeAccount: async (id, purge) => { log.push(`${id}:store-remove:${purge}`); return store.removeAccount(id, purge) },
    },
    metrics: { watch: (_e, id) => { log.push(`${id}:watch`); return () => log.push(`${id}:unwatch`) }, forget: async (id) => { log.push(`${id}:forget`) } },
    log: silent,
    build: async (id) => fakeAccount(id, log),
    random: () => 0.5,
    timers: {
      setTimeout: (fn, ms) => { const t = { fn, ms, cleared: false }; timers.push(t); return t },
      clearTimeout: (h) => { (h as { cleared: boolean }).cleared = true },
    },
    ...over,
  })
  const fire = () => { for (const t of timers.splice(0)) if (!t.cleared) t.fn() }
  return { pool, store, log, timers, fire }
}

const pool = suite('createAccountPool')

pool('loads every registered account, default first; starts default at once and the others staggered with jitter', async () => {
  const w = poolWorld()
  for (const id of ['b', 'c', 'd']) await w.store.addAccount(id)
  await w.pool.load()
  assert.equal([...w.pool.accounts.keys()], ['default', 'b', 'c', 'd'])
  w.pool.startAll()
  assert.equal(w.log.filter((l) => l.endsWith(':start')), ['default:start'])
  assert.equal(w.timers.map((t) => t.ms), [250 + 125, 500 + 125, 750 + 125])
  w.fire()
  assert.equal(w.log.filter((l) => l.endsWith(':start')), ['default:start', 'b:start', 'c:start', 'd:start'])
})

pool('an account removed, or the server stopped, before its turn is not started', async () => {
  const w = poolWorld()
  for (const id of ['b', 'c']) await w.store.addAccount(id)
  await w.pool.load()
  w.pool.startAll()
  await w.pool.remove('b', false)
  w.fire()
  assert.equal(w.log.filter((l) => l.endsWith(':start')), ['default:start', 'c:start'])
  const v = poolWorld()
  await v.store.addAccount('b')
  await v.pool.load()
  v.pool.startAll()
  await v.pool.close()
  assert.ok(v.timers.every((t) => t.cleared), 'pending starts cancelled')
})

pool('add registers, builds, watches and starts at once; an id taken (or being added) is refused', async () => {
  const w = poolWorld()
  await w.pool.load()
  const changes: string[] = []
  w.pool.onChange((c) => changes.push('added' in c ? `+${c.added.id}` : 'removed' in c ? `-${c.removed}` : `=${c.replaced.id}`))
  const [one, two] = await Promise.all([w.pool.add('shop'), w.pool.add('shop')])
  assert.equal(one, { id: 'shop', status: 'qr_pending', user: null })
  assert.is(two, null)
  assert.is(await w.pool.add('default'), null)
  assert.equal(await w.store.accounts(), ['default', 'shop'])
  assert.equal(w.log.filter((l) => l.startsWith('shop')), ['shop:watch', 'shop:start'])
  assert.equal(changes, ['+shop'])
  assert.equal(w.pool.list().map((a) => a.id), ['default', 'shop'])
})

pool('an account that cannot be built is not left registered', async () => {
  const w = poolWorld({ build: async (id) => { if (id === 'bad') throw new Error('store read failed'); return fakeAccount(id, []) } })
  await w.pool.load()
  await w.pool.add('bad').then(() => assert.unreachable('must fail'), (err) => assert.match(String(err), /store read failed/))
  assert.equal(await w.store.accounts(), ['default'])
  assert.is(w.pool.get('bad'), undefined)
  assert.ok(await w.pool.add('bad2'), 'the pool still works')
})

pool('remove: out of the map first, then logout without a fresh pairing, close, the store, the metrics', async () => {
  const w = poolWorld()
  await w.pool.load()
  await w.pool.add('shop')
  const changes: string[] = []
  w.pool.onChange((c) => changes.push('added' in c ? `+${c.added.id}` : 'removed' in c ? `-${c.removed}` : `=${c.replaced.id}`))
  w.log.length = 0
  assert.is(await w.pool.remove('shop', true), true)
  assert.equal(changes, ['-shop'])
  assert.equal(w.log, ['shop:unwatch', 'shop:logout:false', 'shop:close', 'shop:store-remove:true', 'shop:forget'])
  assert.is(w.pool.get('shop'), undefined)
  assert.is(await w.pool.remove('shop', false), false, 'gone')
  assert.is(await w.pool.remove('default', false), false, 'default is never removed')
  assert.equal(await w.store.accounts(), ['default'])
})

pool.run()

// --- the real app: createApp, SQLite, the router and Socket.IO, fake Baileys sockets

interface World { app: App; url: string; dataDir: string; sockets: ReturnType<typeof fakeSocketFactory> }
const app = suite<World>('createApp: several accounts', {} as World)

const accountOf = (s: FakeSocket) => (s.opts.logger.bindings() as { account?: string }).account
const socketOf = (w: World, account: string) => w.sockets.sockets.filter((s) => accountOf(s) === account).at(-1)
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

async function boot(w: World) {
  const config = parseConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: w.dataDir })
  w.sockets = fakeSocketFactory()
  w.app = await createApp(config, silent, w.sockets.factory)
  await new Promise<void>((resolve) => w.app.server.listen(0, '127.0.0.1', resolve))
  w.url = `http://127.0.0.1:${(w.app.server.address() as AddressInfo).port}`
}
async function halt(w: World) {
  await w.app.shutdown()
}
const req = async (w: World, method: string, path: string, body?: unknown) => {
  const res = await fetch(w.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() as any }
}

app.before.each(async (w) => { w.dataDir = mkdtempSync(join(tmpdir(), 'pollwire-accounts-')); await boot(w) })
app.after.each(async (w) => { await halt(w).catch(() => undefined); rmSync(w.dataDir, { recursive: true, force: true }) })

app('POST /accounts checks the id, refuses a taken one, and starts the new account pairing', async (w) => {
  for (const id of [undefined, '', 'Shop', 'a/b', 'x'.repeat(33), 7]) {
    const res = await req(w, 'POST', '/accounts', { id })
    assert.is(res.status, 400, String(id))
    assert.match(res.body.message, /^id /)
  }
  const made = await req(w, 'POST', '/accounts', { id: 'shop' })
  assert.is(made.status, 201)
  assert.equal(made.body.account, { id: 'shop', status: 'disconnected', user: null })
  assert.is((await req(w, 'POST', '/accounts', { id: 'shop' })).status, 409)
  assert.is((await req(w, 'POST', '/accounts', { id: 'default' })).status, 409)
  await settle()
  socketOf(w, 'shop')!.emit('connection.update', { qr: '2@shop-ref,n,i,a' })
  const status = await req(w, 'GET', '/accounts/shop/status')
  assert.equal([status.body.status, status.body.qrCode], ['qr_pending', '2@shop-ref,n,i,a'])
  assert.equal((await req(w, 'GET', '/status')).body.status, 'disconnected', 'default not started, untouched')
  assert.equal((await req(w, 'GET', '/accounts')).body, { success: true, accounts: [
    { id: 'default', status: 'disconnected', user: null }, { id: 'shop', status: 'qr_pending', user: null },
  ] })
  const svg = await fetch(`${w.url}/accounts/shop/status/qr.svg`)
  assert.is(svg.status, 200)
  assert.is((await req(w, 'GET', '/accounts/nope/status')).status, 404)
})

app("each account answers for itself: polls, chats and sends never cross; metrics carry the account", async (w) => {
  await req(w, 'POST', '/accounts', { id: 'shop' })
  w.app.start()
  await settle()
  socketOf(w, 'default')!.open()
  socketOf(w, 'shop')!.open({ id: '15550000002:3@s.whatsapp.net', name: 'Shop', lid: '900000000000002:3@lid' })
  const sent = await req(w, 'POST', '/accounts/shop/send-poll', { chatId: '15551110001@s.whatsapp.net', question: 'Shop?', options: ['A', 'B'] })
  assert.is(sent.status, 200, JSON.stringify(sent.body))
  const mine = await req(w, 'POST', '/send-poll', { chatId: '15551110002@s.whatsapp.net', question: 'Default?', options: ['C', 'D'] })
  assert.equal(Object.keys((await req(w, 'GET', '/accounts/shop/get-all-poll-data')).body.polls), [sent.body.pollMsgId])
  assert.equal(Object.keys((await req(w, 'GET', '/get-all-poll-data')).body.polls), [mine.body.pollMsgId])
  assert.equal(Object.keys((await req(w, 'GET', '/accounts/default/get-all-poll-data')).body.polls), [mine.body.pollMsgId])
  assert.is((await req(w, 'GET', `/polls/${sent.body.pollMsgId}`)).status, 404, "shop's poll is not default's")
  assert.is((await req(w, 'GET', `/accounts/shop/polls/${sent.body.pollMsgId}`)).status, 200)
  assert.equal(socketOf(w, 'shop')!.sent.map((m) => m.jid), ['15551110001@s.whatsapp.net'])
  assert.equal(socketOf(w, 'default')!.sent.map((m) => m.jid), ['15551110002@s.whatsapp.net'])
  assert.equal((await req(w, 'GET', '/accounts/shop/status')).body.user.name, 'Shop')
  const accounts = (await req(w, 'GET', '/accounts')).body.accounts
  assert.equal(accounts.map((a: any) => [a.id, a.status, a.user?.name]), [['default', 'ready', 'Me'], ['shop', 'ready', 'Shop']])
  const metrics = await (await fetch(`${w.url}/metrics`)).text()
  assert.match(metrics, /^pollwire_polls\{account="shop"\} 1$/m)
  assert.match(metrics, /^pollwire_polls\{account="default"\} 1$/m)
  assert.match(metrics, /^pollwire_connection_state\{account="shop",state="ready"\} 1$/m)
  assert.match(metrics, /^pollwire_http_requests_total\{route="\/accounts\/:account\/send-poll",method="POST",status="200"\} 1$/m)
})

app('accounts come back after a restart and reconnect staggered; DELETE logs out and keeps polls unless purged', async (w) => {
  await req(w, 'POST', '/accounts', { id: 'shop' })
  await req(w, 'POST', '/accounts', { id: 'club' })
  await settle()
  socketOf(w, 'shop')!.open()
  const sent = await req(w, 'POST', '/accounts/shop/send-poll', { chatId: '15551110001@s.whatsapp.net', question: 'Kept?', options: ['A', 'B'] })
  assert.is(sent.status, 200)
  await halt(w)
  await boot(w)
  assert.equal([...w.app.accounts.keys()], ['default', 'shop', 'club'])
  assert.equal(Object.keys((await req(w, 'GET', '/accounts/shop/get-all-poll-data')).body.polls), [sent.body.pollMsgId], 'read before connecting')
  w.app.start()
  await settle()
  assert.equal(w.sockets.sockets.map(accountOf), ['default'], 'only default connects at once')
  await new Promise((resolve) => setTimeout(resolve, 800))
  assert.equal(w.sockets.sockets.map(accountOf), ['default', 'shop', 'club'], 'the others follow, in turn')
  socketOf(w, 'shop')!.open()

  assert.is((await req(w, 'DELETE', '/accounts/default')).status, 409)
  assert.is((await req(w, 'DELETE', '/accounts/nope')).status, 404)
  assert.is((await req(w, 'DELETE', '/accounts/shop?purge=maybe')).status, 400)
  const shopSocket = socketOf(w, 'shop')!
  const removed = await req(w, 'DELETE', '/accounts/shop')
  assert.is(removed.status, 200, JSON.stringify(removed.body))
  assert.is(shopSocket.loggedOut, 1, 'unlinked on WhatsApp')
  await settle()
  assert.equal(w.sockets.sockets.filter((s) => accountOf(s) === 'shop').length, 1, 'no fresh pairing follows')
  assert.is((await req(w, 'GET', '/accounts/shop/status')).status, 404)
  assert.equal((await req(w, 'GET', '/accounts')).body.accounts.map((a: any) => a.id), ['default', 'club'])
  assert.not.match(await (await fetch(`${w.url}/metrics`)).text(), /account="shop"/)
  // Kept: added again, its polls are back (its credentials are not).
  await req(w, 'POST', '/accounts', { id: 'shop' })
  assert.equal(Object.keys((await req(w, 'GET', '/accounts/shop/get-all-poll-data')).body.polls), [sent.body.pollMsgId])
  assert.is((await req(w, 'DELETE', '/accounts/shop?purge=true')).status, 200)
  await req(w, 'POST', '/accounts', { id: 'shop' })
  assert.equal((await req(w, 'GET', '/accounts/shop/get-all-poll-data')).body.polls, {}, 'purged')
  await halt(w)
  await boot(w)
  assert.equal([...w.app.accounts.keys()], ['default', 'club', 'shop'])
})

app.run()
