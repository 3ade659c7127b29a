import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HttpError, json } from '../../contract/http.ts'
import type { Handler } from '../../contract/http.ts'
import { createRouter, type Route } from '../../runtime/router.ts'
import { createTokenGuard } from '../../runtime/token-guard.ts'
import { fakeCtx, fakeSession, memoryPolls, samplePoll } from '../fakes.ts'
import { pino } from 'pino'

/** A pino logger that records the messages of warn and above. */
function pinoSpy(into: string[]) {
  return pino({ level: 'warn' }, { write: (line: string) => { into.push(JSON.parse(line).msg) } })
}

const router = suite('createRouter')
const echo: Handler = async (req, ctx) => json(200, { params: ctx.params, body: req.body ? await req.text() : null })
const routes: Route[] = [
  { method: 'GET', path: '/a', handler: echo },
  { method: 'POST', path: '/a', handler: echo },
  { method: 'GET', path: '/polls/:id', handler: echo },
  { method: 'GET', path: '/polls/:id/results.csv', handler: echo },
  { method: 'GET', path: '/open', handler: echo, public: true },
  { method: 'GET', path: '/teapot', handler: () => { throw new HttpError(418, 'short and stout', 'details') } },
  { method: 'GET', path: '/boom', handler: () => { throw new Error('secret internals') } },
]
const base = () => { const { params: _p, ...rest } = fakeCtx(); return rest }
const dispatch = createRouter(routes, base())
const call = async (d: (r: Request) => Promise<Response>, path: string, init?: RequestInit) => {
  const res = await d(new Request(`http://localhost${path}`, init))
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers }
}

router('static and parameter routes, parameters decoded', async () => {
  assert.equal((await call(dispatch, '/a')).body, { params: {}, body: null })
  assert.equal((await call(dispatch, '/polls/3EB0%2F1')).body.params, { id: '3EB0/1' })
  assert.equal((await call(dispatch, '/polls/X/results.csv')).body.params, { id: 'X' })
  assert.is((await call(dispatch, '/polls/X/resultsXcsv')).status, 404)
})

router('404 for unknown paths, 405 for a known path with another method', async () => {
  const nf = await call(dispatch, '/nope')
  assert.is(nf.status, 404)
  assert.is(nf.body.success, false)
  assert.is((await call(dispatch, '/a', { method: 'DELETE' })).status, 405)
  assert.is((await call(dispatch, '/polls/1', { method: 'POST' })).status, 405)
})

router('HttpError becomes { success: false, message, error } with its status', async () => {
  const res = await call(dispatch, '/teapot')
  assert.is(res.status, 418)
  assert.equal(res.body, { success: false, message: 'short and stout', error: 'details' })
})

router('any other error is a 500 that does not leak its message', async () => {
  const res = await call(dispatch, '/boom')
  assert.is(res.status, 500)
  assert.equal(res.body, { success: false, message: 'internal server error' })
})

router('HEAD answers like GET without a body', async () => {
  const res = await dispatch(new Request('http://localhost/a', { method: 'HEAD' }))
  assert.is(res.status, 200)
  assert.is(await res.text(), '')
})

router('a body over 64 KiB is 413 whether declared or streamed', async () => {
  const big = 'x'.repeat(64 * 1024 + 1)
  assert.is((await call(dispatch, '/a', { method: 'POST', body: big })).status, 413)
  const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close() } })
  const res = await dispatch(new Request('http://localhost/a', { method: 'POST', body: stream, duplex: 'half' } as RequestInit))
  assert.is(res.status, 413)
  assert.is((await call(dispatch, '/a', { method: 'POST', body: '"small"', headers: { 'content-type': 'application/json' } })).body.body, '"small"')
})

router('a body not declared as JSON is 415 before the handler; no body needs no type', async () => {
  const seen: string[] = []
  const d = createRouter([{ method: 'POST', path: '/w', handler: (req) => { seen.push(req.method); return json(200, {}) } }], base())
  for (const headers of [{} as Record<string, string>, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }]) {
    const res = await call(d, '/w', { method: 'POST', body: new TextEncoder().encode('{}'), headers })
    assert.is(res.status, 415, JSON.stringify(headers))
    assert.is(res.body.success, false)
  }
  assert.equal(seen, [])
  assert.is((await call(d, '/w', { method: 'POST' })).status, 200)
  assert.is((await call(d, '/w', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 200)
  assert.is((await call(d, '/w', { method: 'POST', body: '{}', headers: { 'content-type': 'application/merge-patch+json' } })).status, 200)
})

router('a body cut off by the client is a 400, not an internal error', async () => {
  const logged: string[] = []
  const { log: _log, ...rest } = base()
  const spy = { ...rest, log: pinoSpy(logged) }
  const d = createRouter(routes, spy)
  const stream = new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode('{"question":')); c.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })) },
  })
  const res = await d(new Request('http://localhost/a', { method: 'POST', body: stream, duplex: 'half' } as RequestInit))
  assert.is(res.status, 400)
  assert.equal(await res.json(), { success: false, message: 'request body could not be read: the client went away or sent a broken stream' })
  assert.equal(logged, [], 'nothing logged as an error')
})

router('the guard protects every non-public route', async () => {
  const guarded = createRouter(routes, base(), { guard: createTokenGuard('t0ken-t0ken-t0ken') })
  const denied = await call(guarded, '/a')
  assert.is(denied.status, 401)
  assert.is(denied.headers.get('www-authenticate'), 'Bearer')
  assert.is((await call(guarded, '/a', { headers: { authorization: 'Bearer wrong' } })).status, 401)
  assert.is((await call(guarded, '/a', { headers: { authorization: 'Bearer t0ken-t0ken-t0ken' } })).status, 200)
  assert.is((await call(guarded, '/open')).status, 200)
  assert.is((await call(guarded, '/nope')).status, 404)
})

router('observe sees each answered request once', async () => {
  const seen: string[] = []
  const d = createRouter(routes, base(), { observe: (r, m, s) => seen.push(`${m} ${r} ${s}`) })
  await d(new Request('http://localhost/polls/1'))
  await d(new Request('http://localhost/zzz'))
  assert.equal(seen, ['GET /polls/:id 200', 'GET unmatched 404'])
})

// ---

const prefixed = suite('createRouter: accounts')
const who: Handler = (_req, ctx) => json(200, { user: ctx.session.user()?.name ?? null, polls: Object.keys(ctx.polls.all()), params: ctx.params })
const scopedRoutes: Route[] = [
  { method: 'GET', path: '/status', handler: who },
  { method: 'GET', path: '/polls/:id', handler: who },
  { method: 'POST', path: '/logout', handler: who },
  { method: 'GET', path: '/health', handler: who, public: true, global: true },
  { method: 'GET', path: '/accounts', handler: who, global: true },
  { method: 'DELETE', path: '/accounts/:id', handler: who, global: true },
]
const named = (name: string, polls: string[]) => ({
  session: fakeSession({ user: { id: `${name}@s.whatsapp.net`, name } }),
  polls: memoryPolls(Object.fromEntries(polls.map((id) => [id, samplePoll()]))),
})
const accounts: Record<string, ReturnType<typeof named>> = { default: named('Default', ['D1']), shop: named('Shop', ['S1']) }
const scopedBase = () => { const { params: _p, ...rest } = fakeCtx(accounts.default); return rest }

prefixed('a route serves default unprefixed and each account under /accounts/:account, with its own session and polls', async () => {
  const d = createRouter(scopedRoutes, scopedBase(), { account: (id) => accounts[id] })
  assert.equal((await call(d, '/status')).body, { user: 'Default', polls: ['D1'], params: {} })
  assert.equal((await call(d, '/accounts/shop/status')).body, { user: 'Shop', polls: ['S1'], params: {} })
  assert.equal((await call(d, '/accounts/default/status')).body, { user: 'Default', polls: ['D1'], params: {} })
  assert.equal((await call(d, '/accounts/shop/polls/X%2F1')).body.params, { id: 'X/1' })
  assert.is((await call(d, '/accounts/shop/logout', { method: 'POST' })).body.user, 'Shop')
  assert.is((await call(d, '/accounts/shop/status', { method: 'POST' })).status, 405)
})

prefixed('an unknown account is a 404 with a message; global routes exist only at their path', async () => {
  const d = createRouter(scopedRoutes, scopedBase(), { account: (id) => accounts[id] })
  const unknown = await call(d, '/accounts/nope/status')
  assert.is(unknown.status, 404)
  assert.equal(unknown.body, { success: false, message: 'no account with id "nope"' })
  for (const path of ['/accounts/shop/health', '/accounts/shop/accounts', '/accounts/shop/nothing']) assert.is((await call(d, path)).status, 404, path)
  assert.is((await call(d, '/accounts')).body.user, 'Default', 'GET /accounts is the global route')
  assert.equal((await call(d, '/accounts/shop', { method: 'DELETE' })).body.params, { id: 'shop' }, 'DELETE /accounts/:id is not a prefixed route')
  assert.is((await call(d, '/accounts/shop')).status, 405)
})

prefixed('without an account resolver nothing is prefixed', async () => {
  const d = createRouter(scopedRoutes, scopedBase())
  assert.is((await call(d, '/accounts/shop/status')).status, 404)
})

prefixed('the token is checked before the account: without it nobody learns which accounts exist', async () => {
  const d = createRouter(scopedRoutes, scopedBase(), { account: (id) => accounts[id], guard: createTokenGuard('t0ken-t0ken-t0ken') })
  assert.is((await call(d, '/accounts/nope/status')).status, 401)
  assert.is((await call(d, '/accounts/shop/status')).status, 401)
  assert.is((await call(d, '/accounts/shop/status', { headers: { authorization: 'Bearer t0ken-t0ken-t0ken' } })).body.user, 'Shop')
})

prefixed('observe names a prefixed route by its pattern', async () => {
  const seen: string[] = []
  const d = createRouter(scopedRoutes, scopedBase(), { account: (id) => accounts[id], observe: (r, m, s) => seen.push(`${m} ${r} ${s}`) })
  await d(new Request('http://localhost/accounts/shop/polls/1'))
  await d(new Request('http://localhost/accounts/zzz/status'))
  await d(new Request('http://localhost/polls/1'))
  assert.equal(seen, ['GET /accounts/:account/polls/:id 200', 'GET /accounts/:account/status 404', 'GET /polls/:id 200'])
})

router.run()
prefixed.run()
