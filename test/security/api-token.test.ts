import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { io as connect, type Socket } from 'socket.io-client'
import { routes } from '../../handlers/index.ts'
import { startApp, TOKEN, type Running } from './app-under-test.ts'

/**
 * API_TOKEN over real HTTP and Socket.IO (issue #7): every route of handlers/index.ts that is
 * not public answers 401 without the token or with a wrong one — before its handler runs —
 * and 200 with it; Socket.IO refuses a connection without the right auth.token.
 */

const bearer = { authorization: `Bearer ${TOKEN}` }
const WRONG: Array<[string, Record<string, string>, string]> = [
  ['no Authorization header', {}, ''],
  ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }, ''],
  ['the token with a character more', { authorization: `Bearer ${TOKEN}x` }, ''],
  ['the token with a character less', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, ''],
  ['an empty bearer', { authorization: 'Bearer ' }, ''],
  ['the token without the Bearer scheme', { authorization: TOKEN }, ''],
  ['the token as Basic credentials', { authorization: `Basic ${btoa(`${TOKEN}:`)}` }, ''],
  ['the token in the query string', {}, `?token=${TOKEN}&api_token=${TOKEN}`],
]

/** How to call each guarded route so that it answers 200, and in which session state. */
const AUTHORIZED: Record<string, { state: 'ready' | 'qr_pending' | 'last'; body?: unknown; status?: number }> = {
  'GET /status': { state: 'ready' },
  'POST /send-poll': { state: 'ready', body: { chatId: '15551110001@s.whatsapp.net', question: 'Authorized?', options: ['Yes', 'No'] } },
  'GET /get-chats': { state: 'ready' },
  'GET /get-all-poll-data': { state: 'ready' },
  'GET /polls/:id': { state: 'ready' },
  'GET /polls/:id/votes': { state: 'ready' },
  'GET /polls/:id/results.csv': { state: 'ready' },
  'GET /metrics': { state: 'ready' },
  'POST /pairing-code': { state: 'qr_pending', body: { phoneNumber: '15551234567' } },
  'GET /status/qr.svg': { state: 'qr_pending' },
  'POST /logout': { state: 'last', body: {} },
  'GET /webhooks': { state: 'ready' },
  'POST /webhooks': { state: 'ready', body: { url: 'http://127.0.0.1:9/hook' }, status: 201 },
  // An id nobody has: the guard let it through and the handler answered.
  'DELETE /webhooks/:id': { state: 'ready', status: 404 },
  'GET /webhooks/deliveries': { state: 'ready' },
  'POST /webhooks/deliveries/:id/retry': { state: 'ready', status: 404 },
  'GET /campaigns': { state: 'ready' },
  // Refused by the handler (no chats): nothing is stored or sent.
  'POST /campaigns': { state: 'ready', body: { chatIds: [], question: 'Q', options: ['A'] }, status: 400 },
  'GET /campaigns/:id': { state: 'ready', status: 404 },
  'POST /campaigns/:id/pause': { state: 'ready', status: 404 },
  'POST /campaigns/:id/resume': { state: 'ready', status: 404 },
  'POST /campaigns/:id/cancel': { state: 'ready', status: 404 },
  'GET /campaigns/:id/results.csv': { state: 'ready', status: 404 },
  'GET /accounts': { state: 'ready' },
  // Refused by the handler (a bad id): no account is made, so the fake sockets stay the default's.
  'POST /accounts': { state: 'ready', body: { id: 'Not An Id' }, status: 400 },
  'DELETE /accounts/:id': { state: 'ready', status: 404 },
}

interface World { app: Running; pollId: string }
const http = suite<World>('API_TOKEN on every HTTP route', {} as World)

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`
const guarded = routes.filter((r) => !r.public)

async function call(w: World, method: string, path: string, headers: Record<string, string>, body?: unknown, query = '') {
  const res = await fetch(`${w.app.url}${path.replace(':id', w.pollId)}${query}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, text, headers: res.headers }
}

http.before(async (w) => {
  w.app = await startApp({ API_TOKEN: TOKEN })
  w.app.open()
  const res = await call(w, 'POST', '/send-poll', bearer, AUTHORIZED['POST /send-poll']!.body)
  assert.is(res.status, 200, res.text)
  w.pollId = JSON.parse(res.text).pollMsgId
})

http.after(async (w) => { await w.app?.close() })

http('the test knows how to call every guarded route (a new route must be added here)', () => {
  assert.equal(guarded.map(key).sort(), Object.keys(AUTHORIZED).sort())
})

http('every guarded route answers 401 without the right token, and its handler does not run', async (w) => {
  const sentBefore = w.app.sockets.last().sent.length
  for (const route of guarded) {
    const body = AUTHORIZED[key(route)]?.body
    for (const [why, headers, query] of WRONG) {
      const res = await call(w, route.method, route.path, headers, body, query)
      assert.is(res.status, 401, `${key(route)} with ${why}: ${res.status} ${res.text}`)
      const json = JSON.parse(res.text)
      assert.is(json.success, false)
      assert.type(json.message, 'string')
      assert.is(res.headers.get('www-authenticate'), 'Bearer')
      assert.not.match(res.text, TOKEN)
    }
    if (route.method === 'GET') {
      const head = await fetch(`${w.app.url}${route.path.replace(':id', w.pollId)}`, { method: 'HEAD' })
      assert.is(head.status, 401, `HEAD ${route.path}`)
    }
  }
  assert.is(w.app.sockets.last().sent.length, sentBefore, 'no poll was sent')
  assert.is(w.app.app.session.status(), 'ready', 'nothing logged out')
})

http("every account's routes (/accounts/:account/…) answer 401 without the token, an unknown account too", async (w) => {
  for (const route of guarded.filter((r) => !r.global)) {
    for (const account of ['default', 'nobody']) {
      const res = await call(w, route.method, `/accounts/${account}${route.path}`, {}, AUTHORIZED[key(route)]?.body)
      assert.is(res.status, 401, `${key(route)} of ${account}: ${res.status} ${res.text}`)
    }
  }
  assert.is((await call(w, 'GET', '/accounts/default/status', bearer)).status, 200)
  assert.is((await call(w, 'GET', '/accounts/nobody/status', bearer)).status, 404)
  assert.is(w.app.app.session.status(), 'ready', 'nothing logged out')
})

http('public routes answer without a token', async (w) => {
  for (const route of routes.filter((r) => r.public)) {
    const res = await call(w, route.method, route.path, {})
    assert.is(res.status, 200, `${key(route)}: ${res.text}`)
  }
})

http('every guarded route answers 200 with the token (also with a lower-case scheme)', async (w) => {
  const run = async (state: 'ready' | 'qr_pending' | 'last') => {
    for (const route of guarded) {
      const how = AUTHORIZED[key(route)]!
      if (how.state !== state) continue
      const headers = route.path === '/status' ? { authorization: `bearer ${TOKEN}` } : bearer
      const res = await call(w, route.method, route.path, headers, how.body)
      assert.is(res.status, how.status ?? 200, `${key(route)}: ${res.status} ${res.text}`)
    }
  }
  await run('ready')
  w.app.showQr()
  assert.is(w.app.app.session.status(), 'qr_pending')
  await run('qr_pending')
  await run('last')
})

http.run()

// ---

const sio = suite<{ app: Running; clients: Socket[] }>('API_TOKEN on Socket.IO', { clients: [] } as never)

sio.before(async (w) => {
  w.clients = []
  w.app = await startApp({ API_TOKEN: TOKEN })
})
sio.after(async (w) => {
  for (const c of w.clients) c.close()
  await w.app?.close()
})

const outcome = (w: { app: Running; clients: Socket[] }, opts: Record<string, unknown>, path = '') =>
  new Promise<{ ok: boolean; error?: string; events: string[] }>((resolve) => {
    const events: string[] = []
    const s = connect(w.app.url + path, { transports: ['websocket'], reconnection: false, timeout: 5000, ...opts })
    w.clients.push(s)
    s.onAny((e: string) => { events.push(e); if (e === 'initial_poll_data') resolve({ ok: true, events }) })
    s.on('connect_error', (err) => resolve({ ok: false, error: err.message, events }))
  })

sio('refused without auth.token, with a wrong one, a non-string one, or the token in the query', async (w) => {
  for (const [why, opts, path] of [
    ['no auth', {}, ''],
    ['a wrong token', { auth: { token: 'wrong-token-0123456789abcdef' } }, ''],
    ['a prefix of the token', { auth: { token: TOKEN.slice(0, 8) } }, ''],
    ['a number', { auth: { token: 1234 } }, ''],
    ['an array holding the token', { auth: { token: [TOKEN] } }, ''],
    ['the token in the query', { query: { token: TOKEN } }, ''],
    ['the token as a bearer header', { extraHeaders: { authorization: `Bearer ${TOKEN}` }, transports: ['polling'] }, ''],
  ] as Array<[string, Record<string, unknown>, string]>) {
    const r = await outcome(w, opts, path)
    assert.is(r.ok, false, `${why}: connected`)
    assert.match(r.error ?? '', /unauthorized/, why)
    assert.equal(r.events, [], `${why}: no event reached the client`)
  }
})

sio('accepted with the right auth.token, on websocket and polling', async (w) => {
  for (const transports of [['websocket'], ['polling']]) {
    const r = await outcome(w, { auth: { token: TOKEN }, transports })
    assert.is(r.ok, true, `${transports}: ${r.error}`)
    assert.is(r.events[0], 'client_status')
  }
})

sio("an account's namespace (/accounts/<id>) asks for the token as the default one does", async (w) => {
  for (const opts of [{}, { auth: { token: 'wrong-token-0123456789abcdef' } }, { query: { token: TOKEN } }]) {
    const r = await outcome(w, opts, '/accounts/default')
    assert.is(r.ok, false, `connected with ${JSON.stringify(opts)}`)
    assert.match(r.error ?? '', /unauthorized/)
    assert.equal(r.events, [])
  }
  const ok = await outcome(w, { auth: { token: TOKEN } }, '/accounts/default')
  assert.is(ok.ok, true, ok.error)
  assert.is(ok.events[0], 'client_status')
})

sio.run()
