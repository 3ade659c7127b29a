import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { request } from 'node:http'
import { connect as tcp } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import { startApp, TOKEN, type Running } from './app-under-test.ts'

/**
 * Who may call (issue #11) through the real app over real HTTP and Socket.IO: a web page the
 * user visits must not act through the user's browser. Cross-site writes are 403, bodies that
 * are not declared JSON 415, a Host that is not this server's (DNS rebinding) 421 — on the API,
 * the dashboard's files and the Socket.IO handshake — while the GUI (no Origin, Host
 * localhost:PORT) and the dashboard (same-origin JSON) keep working.
 */

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

const port = (app: Running) => new URL(app.url).port
const REBIND = (app: Running) => `rebind.evil.example:${port(app)}`
const HANDSHAKE = '/socket.io/?EIO=4&transport=polling'
const POLL = { chatId: '15551110001@s.whatsapp.net', question: 'Lunch?', options: ['Pizza', 'Sushi'] }

/** node:http, so Host, Origin and Sec-Fetch-Site can be set as a browser (or an attacker's DNS) would. */
function send(app: Running, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${app.url}${path}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

/** A bare HTTP/1.0 request: the only way to send no Host header at all (Node refuses that for 1.1). */
function sendWithoutHost(app: Running, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = tcp(Number(port(app)), '127.0.0.1', () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`))
    let raw = ''
    s.setEncoding('latin1')
    s.on('data', (d) => { raw += d })
    s.on('error', reject)
    s.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0)))
  })
}

/** A WebSocket upgrade to Socket.IO: resolves 101 when it is accepted, else the answer's status (0 = dropped). */
function upgrade(app: Running, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${app.url}/socket.io/?EIO=4&transport=websocket`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    })
    req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(101) })
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', () => resolve(0))
    req.end()
  })
}

function failure(res: Answer, status: number, what: string) {
  assert.is(res.status, status, `${what}: ${res.status} ${res.body.slice(0, 200)}`)
  const body = JSON.parse(res.body)
  assert.is(body.success, false, what)
  assert.type(body.message, 'string', what)
  assert.ok(body.message.length > 0, what)
}

const sioOutcome = (clients: Socket[], url: string, opts: Record<string, unknown>) =>
  new Promise<{ ok: boolean; error?: string }>((resolve) => {
    const s = connect(url, { transports: ['polling'], reconnection: false, timeout: 5000, ...opts })
    clients.push(s)
    s.on('initial_poll_data', () => resolve({ ok: true }))
    s.on('connect_error', (err) => resolve({ ok: false, error: err.message }))
  })

interface World { app: Running; clients: Socket[] }
const LISTED = 'https://gui.example'

// ---

const writes = suite<World>('cross-site writes and JSON-only bodies (no API_TOKEN)', {} as World)

writes.before(async (w) => {
  w.clients = []
  w.app = await startApp({ CORS_ORIGINS: LISTED })
  w.app.open()
})
writes.after(async (w) => {
  for (const c of w.clients) c.close()
  await w.app?.close()
})

const nothingHappened = (w: World, sentBefore: number) => {
  assert.is(w.app.sockets.last().sent.length, sentBefore, 'no poll was sent')
  assert.is(w.app.sockets.last().loggedOut, 0, 'WhatsApp logout was not called')
  assert.is(w.app.app.session.status(), 'ready', 'still logged in')
}

writes('an auto-submitted form POST /logout from a foreign Origin is 403 and logs nothing out', async (w) => {
  const sent = w.app.sockets.last().sent.length
  const form = { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }
  failure(await send(w.app, 'POST', '/logout', form, 'x=1'), 403, 'form with a field')
  failure(await send(w.app, 'POST', '/logout', form, ''), 403, 'empty form')
  failure(await send(w.app, 'POST', '/logout', { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' }, ''), 403, 'Origin: null')
  failure(await send(w.app, 'POST', '/logout', { origin: `http://localhost:5555`, host: `localhost:${port(w.app)}` }), 403, 'another local port')
  nothingHappened(w, sent)
})

writes('a no-cors fetch without Content-Type to /send-poll is 415 and sends no poll', async (w) => {
  const sent = w.app.sockets.last().sent.length
  failure(await send(w.app, 'POST', '/send-poll', {}, JSON.stringify(POLL)), 415, 'no Content-Type')
  failure(await send(w.app, 'POST', '/send-poll', {}, ''), 415, 'no Content-Type, no body')
  failure(await send(w.app, 'POST', '/send-poll', { 'content-type': 'text/plain;charset=UTF-8' }, JSON.stringify(POLL)), 415, 'text/plain')
  failure(await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/x-www-form-urlencoded' }, JSON.stringify(POLL)), 415, 'form')
  failure(await send(w.app, 'POST', '/pairing-code', {}, '{"phoneNumber":"15551234567"}'), 415, 'pairing-code without Content-Type')
  failure(await send(w.app, 'POST', '/logout', { 'content-type': 'text/plain' }, '{}'), 415, 'logout with a text body')
  nothingHappened(w, sent)
})

writes('Sec-Fetch-Site: cross-site is 403 even with JSON and no Origin', async (w) => {
  const sent = w.app.sockets.last().sent.length
  failure(await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, JSON.stringify(POLL)), 403, 'send-poll')
  failure(await send(w.app, 'POST', '/logout', { 'sec-fetch-site': 'cross-site' }), 403, 'logout')
  failure(await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/json', origin: 'http://evil.example' }, JSON.stringify(POLL)), 403, 'foreign Origin with JSON')
  nothingHappened(w, sent)
})

writes('the dashboard (same-origin JSON) and a CORS_ORIGINS origin may write', async (w) => {
  const sent = w.app.sockets.last().sent.length
  const own = await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/json', origin: w.app.url, 'sec-fetch-site': 'same-origin' }, JSON.stringify(POLL))
  assert.is(own.status, 200, own.body)
  const local = await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/json', origin: `http://localhost:${port(w.app)}`, host: `localhost:${port(w.app)}` }, JSON.stringify(POLL))
  assert.is(local.status, 200, local.body)
  const listed = await send(w.app, 'POST', '/send-poll', { 'content-type': 'application/json; charset=utf-8', origin: LISTED }, JSON.stringify(POLL))
  assert.is(listed.status, 200, listed.body)
  assert.is(w.app.sockets.last().sent.length, sent + 3)
})

writes('the GUI (requests: no Origin, Host localhost:PORT) works over HTTP and Socket.IO', async (w) => {
  const headers = { host: `localhost:${port(w.app)}`, 'user-agent': 'python-requests/2.31.0' }
  assert.is((await send(w.app, 'GET', '/status', headers)).status, 200)
  assert.is((await send(w.app, 'GET', '/get-chats', headers)).status, 200)
  const sent = await send(w.app, 'POST', '/send-poll', { ...headers, 'content-type': 'application/json' }, JSON.stringify(POLL))
  assert.is(sent.status, 200, sent.body)
  const hs = await send(w.app, 'GET', HANDSHAKE, headers)
  assert.is(hs.status, 200, hs.body)
  assert.match(hs.body, /"sid"/)
  assert.equal(await sioOutcome(w.clients, `http://localhost:${port(w.app)}`, { transports: ['websocket'] }), { ok: true })
})

writes('POST /logout with no body and no Content-Type (the GUI, curl) still logs out', async (w) => {
  const res = await send(w.app, 'POST', '/logout', { host: `localhost:${port(w.app)}` })
  assert.is(res.status, 200, res.body)
  assert.is(w.app.sockets.sockets[0]!.loggedOut, 1)
})

// The server's own routes (#13 webhooks, #14 accounts, #17 campaigns) sit behind the same guard as the GUI's.
const OWN_WRITES: Array<[string, string, unknown]> = [
  ['POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' }],
  ['DELETE', '/webhooks/ep_none', undefined],
  ['POST', '/webhooks/deliveries/1/retry', undefined],
  ['POST', '/accounts', { id: 'shop' }],
  ['DELETE', '/accounts/shop', undefined],
  ['POST', '/accounts/default/send-poll', POLL],
  ['POST', '/accounts/default/logout', undefined],
  ['POST', '/campaigns', { chatIds: ['120363000000000001@g.us'], question: 'Q?', options: ['A', 'B'] }],
  ['POST', '/accounts/default/campaigns', { chatIds: ['120363000000000001@g.us'], question: 'Q?', options: ['A', 'B'] }],
  ['POST', '/campaigns/cmp_none/pause', undefined],
  ['POST', '/campaigns/cmp_none/cancel', undefined],
]

const ownState = async (w: World) => {
  const hooks = JSON.parse((await send(w.app, 'GET', '/webhooks')).body)
  const accounts = JSON.parse((await send(w.app, 'GET', '/accounts')).body)
  const campaigns = JSON.parse((await send(w.app, 'GET', '/campaigns')).body)
  return { endpoints: hooks.endpoints.length, accounts: accounts.accounts.map((a: { id: string }) => a.id).join(','), campaigns: campaigns.campaigns.length }
}

writes('the webhook, account and campaign routes refuse a foreign Origin, cross-site and non-JSON bodies, and change nothing', async (w) => {
  const sent = w.app.sockets.last().sent.length
  const loggedOut = w.app.sockets.last().loggedOut
  const before = await ownState(w)
  for (const [method, path, body] of OWN_WRITES) {
    const json = body === undefined ? undefined : JSON.stringify(body)
    failure(await send(w.app, method, path, { origin: 'http://evil.example', 'content-type': 'application/json' }, json), 403, `${method} ${path} foreign Origin`)
    failure(await send(w.app, method, path, { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, json), 403, `${method} ${path} cross-site`)
    if (json) failure(await send(w.app, method, path, { 'content-type': 'application/x-www-form-urlencoded' }, json), 415, `${method} ${path} form body`)
  }
  assert.equal(await ownState(w), before)
  assert.is(w.app.sockets.last().sent.length, sent, 'no poll was sent')
  assert.is(w.app.sockets.last().loggedOut, loggedOut, 'WhatsApp logout was not called')
})

writes.run()

// ---

const rebind = suite<World>('DNS rebinding: the Host header (no API_TOKEN)', {} as World)

rebind.before(async (w) => {
  w.clients = []
  w.app = await startApp()
  w.app.showQr('2@secret-qr-ref,noise,identity,adv')
})
rebind.after(async (w) => {
  for (const c of w.clients) c.close()
  await w.app?.close()
})

rebind('a foreign Host is 421 on the API, the dashboard, /health and the Socket.IO handshake', async (w) => {
  for (const path of ['/get-chats', '/status', '/get-all-poll-data', '/status/qr.svg', '/', '/web/app/api.js', '/health', '/openapi.json', '/nope', HANDSHAKE]) {
    for (const host of [REBIND(w.app), 'rebind.evil.example', '127.0.0.1.evil.example']) {
      const res = await send(w.app, 'GET', path, { host })
      failure(res, 421, `GET ${path} with Host ${host}`)
      assert.not.match(res.body, /"sid"|secret-qr-ref|<html/i, path)
    }
  }
})

rebind('a foreign Host is 421 on writes too, and nothing happens', async (w) => {
  const sent = w.app.sockets.last().sent.length
  const host = REBIND(w.app)
  failure(await send(w.app, 'POST', '/send-poll', { host, origin: `http://${host}`, 'content-type': 'application/json' }, JSON.stringify(POLL)), 421, 'send-poll')
  failure(await send(w.app, 'POST', '/logout', { host, origin: `http://${host}` }), 421, 'logout')
  assert.is(w.app.sockets.last().sent.length, sent)
  assert.is(w.app.sockets.last().loggedOut, 0)
  assert.is(w.app.app.session.status(), 'qr_pending')
})

rebind('the webhook, account and campaign routes are 421 to a foreign Host, reads and writes', async (w) => {
  const host = REBIND(w.app)
  for (const path of ['/webhooks', '/webhooks/deliveries', '/accounts', '/accounts/default/status', '/accounts/default/get-all-poll-data', '/campaigns', '/accounts/default/campaigns', '/campaigns/cmp_none']) {
    failure(await send(w.app, 'GET', path, { host }), 421, `GET ${path}`)
  }
  for (const [method, path, body] of OWN_WRITES) {
    const json = body === undefined ? undefined : JSON.stringify(body)
    failure(await send(w.app, method, path, { host, origin: `http://${host}`, 'content-type': 'application/json' }, json), 421, `${method} ${path}`)
  }
  assert.equal(JSON.parse((await send(w.app, 'GET', '/webhooks')).body).endpoints, [])
  assert.equal(JSON.parse((await send(w.app, 'GET', '/accounts')).body).accounts.map((a: { id: string }) => a.id), ['default'])
  assert.equal(JSON.parse((await send(w.app, 'GET', '/campaigns')).body).campaigns, [])
})

rebind('a WebSocket upgrade with a foreign Host is refused 421; with a loopback Host it is accepted', async (w) => {
  assert.is(await upgrade(w.app, { host: REBIND(w.app) }), 421)
  assert.is(await upgrade(w.app, { host: `localhost:${port(w.app)}` }), 101)
})

rebind('no Host header at all is 421', async (w) => {
  assert.is(await sendWithoutHost(w.app, '/status'), 421)
  assert.is(await sendWithoutHost(w.app, '/'), 421)
  assert.is(await sendWithoutHost(w.app, HANDSHAKE), 421)
})

rebind('loopback Hosts pass: localhost, 127.x, [::1], any port', async (w) => {
  for (const host of [`localhost:${port(w.app)}`, `127.0.0.1:${port(w.app)}`, '127.0.0.2:1234', `[::1]:${port(w.app)}`, 'LOCALHOST']) {
    assert.is((await send(w.app, 'GET', '/status', { host })).status, 200, host)
    assert.is((await send(w.app, 'GET', '/', { host })).status, 200, host)
  }
})

rebind.run()

// ---

const origins = suite<World>('Socket.IO origins (no API_TOKEN)', {} as World)

origins.before(async (w) => {
  w.clients = []
  w.app = await startApp({ CORS_ORIGINS: LISTED })
})
origins.after(async (w) => {
  for (const c of w.clients) c.close()
  await w.app?.close()
})

origins('another local port is refused; the own origin, CORS_ORIGINS and no Origin are allowed', async (w) => {
  const local = `localhost:${port(w.app)}`
  for (const origin of ['http://localhost:5555', 'http://127.0.0.1:8080', `http://127.0.0.1:${port(w.app)}`, 'https://evil.example']) {
    const res = await send(w.app, 'GET', HANDSHAKE, { host: local, origin })
    assert.ok(res.status >= 400 && res.status < 500, `${origin}: ${res.status}`)
    assert.not.match(res.body, /"sid"/, origin)
    assert.is(res.headers['access-control-allow-origin'], undefined, origin)
  }
  for (const [origin, host] of [[`http://${local}`, local], [w.app.url, new URL(w.app.url).host], [LISTED, local]]) {
    const res = await send(w.app, 'GET', HANDSHAKE, { host: host!, origin: origin! })
    assert.is(res.status, 200, `${origin}: ${res.body}`)
    assert.match(res.body, /"sid"/)
  }
  assert.is((await send(w.app, 'GET', HANDSHAKE, { host: local })).status, 200)
})

origins('socket.io-client: another local port refused, the own origin allowed', async (w) => {
  const refused = await sioOutcome(w.clients, w.app.url, { extraHeaders: { origin: 'http://localhost:5555' } })
  assert.is(refused.ok, false)
  assert.equal(await sioOutcome(w.clients, w.app.url, { extraHeaders: { origin: w.app.url } }), { ok: true })
  assert.equal(await sioOutcome(w.clients, w.app.url, {}), { ok: true })
})

origins.run()

// ---

const listed = suite<World>('ALLOWED_HOSTS', {} as World)

listed.before(async (w) => {
  w.clients = []
  w.app = await startApp({ ALLOWED_HOSTS: 'myhost, Other.Example' })
  w.app.open()
})
listed.after(async (w) => { await w.app?.close() })

listed('a listed host passes on any port (HTTP, dashboard, Socket.IO); others are still 421', async (w) => {
  for (const host of [`myhost:${port(w.app)}`, 'MYHOST:80', `other.example:${port(w.app)}`]) {
    assert.is((await send(w.app, 'GET', '/status', { host })).status, 200, host)
    assert.is((await send(w.app, 'GET', '/', { host })).status, 200, host)
    const hs = await send(w.app, 'GET', HANDSHAKE, { host })
    assert.is(hs.status, 200, `${host}: ${hs.body}`)
  }
  const own = await send(w.app, 'POST', '/send-poll', { host: `myhost:${port(w.app)}`, origin: `http://myhost:${port(w.app)}`, 'content-type': 'application/json' }, JSON.stringify(POLL))
  assert.is(own.status, 200, own.body)
  failure(await send(w.app, 'GET', '/status', { host: REBIND(w.app) }), 421, 'unlisted')
  failure(await send(w.app, 'GET', '/status', { host: `myhost.evil.example:${port(w.app)}` }), 421, 'look-alike')
})

listed.run()

// ---

const token = suite('the Host check with API_TOKEN set')

token('without ALLOWED_HOSTS a foreign Host passes the Host check but still needs the token', async () => {
  const app = await startApp({ API_TOKEN: TOKEN })
  try {
    app.open()
    const host = REBIND(app)
    failure(await send(app, 'GET', '/status', { host }), 401, 'no token')
    assert.is((await send(app, 'GET', '/status', { host, authorization: `Bearer ${TOKEN}` })).status, 200)
    assert.is((await send(app, 'GET', '/health', { host })).status, 200)
    failure(await send(app, 'POST', '/logout', { origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` }), 403, 'cross-site with the token')
    failure(await send(app, 'POST', '/send-poll', { authorization: `Bearer ${TOKEN}` }, JSON.stringify(POLL)), 415, 'no Content-Type with the token')
    assert.is(app.sockets.last().sent.length, 0)
    assert.is(app.app.session.status(), 'ready')
  } finally {
    await app.close()
  }
})

token('with ALLOWED_HOSTS the Host is checked before the token', async () => {
  const app = await startApp({ API_TOKEN: TOKEN, ALLOWED_HOSTS: 'myhost' })
  try {
    failure(await send(app, 'GET', '/status', { host: REBIND(app), authorization: `Bearer ${TOKEN}` }), 421, 'foreign Host with the token')
    assert.is((await send(app, 'GET', '/status', { host: `myhost:${port(app)}`, authorization: `Bearer ${TOKEN}` })).status, 200)
  } finally {
    await app.close()
  }
})

token.run()
