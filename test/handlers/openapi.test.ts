import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { routes } from '../../handlers/index.ts'
import { openApi } from '../../handlers/openapi.ts'
import { openApiDocument } from '../../handlers/lib/openapi.ts'
import { DEFAULT_CAMPAIGN_DELAY, MAX_CAMPAIGN_CHATS, MAX_CAMPAIGN_DELAY_MS } from '../../contract/campaigns.ts'
import type { Context } from '../../contract/http.ts'
import { fakeCampaigns, fakeCtx, fakeSession, get, invoke, invokeRoute, memoryPolls, post, sampleCampaign, samplePoll } from '../fakes.ts'

type Json = any
const doc: Json = JSON.parse(JSON.stringify(openApiDocument))
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']
const toOpenApi = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}')

function operations(): Array<{ method: string; path: string; op: Json }> {
  const out = []
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path, op: item[m] })
  }
  return out
}

function resolve(ref: string): Json {
  assert.ok(ref.startsWith('#/'), `only local refs: ${ref}`)
  let at: Json = doc
  for (const key of ref.slice(2).split('/')) {
    at = at?.[key]
    assert.ok(at !== undefined, `dangling $ref ${ref}`)
  }
  return at
}

/** The JSON Schema subset the document uses; enough to hold handlers to what it promises. */
function check(schema: Json, value: unknown, at = '$'): string[] {
  if (schema.$ref) return check(resolve(schema.$ref), value, at)
  const errs: string[] = []
  if (schema.allOf) for (const s of schema.allOf) errs.push(...check(s, value, at))
  if (schema.oneOf) {
    const fits = schema.oneOf.filter((s: Json) => check(s, value, at).length === 0).length
    if (fits !== 1) errs.push(`${at}: matches ${fits} of oneOf`)
  }
  if ('const' in schema && value !== schema.const) errs.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`)
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not in ${schema.enum}`)
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type]
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) errs.push(`${at}: ${actual} is not ${types}`)
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errs.push(...check(schema.items, v, `${at}[${i}]`)))
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in obj)) errs.push(`${at}: missing ${key}`)
    for (const [key, v] of Object.entries(obj)) {
      if (schema.properties?.[key]) errs.push(...check(schema.properties[key], v, `${at}.${key}`))
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') errs.push(...check(schema.additionalProperties, v, `${at}.${key}`))
    }
  }
  return errs
}

// ---

const table = suite('openapi: route table')

table('is an OpenAPI 3.1 document', () => {
  assert.is(doc.openapi, '3.1.0')
  assert.type(doc.info.title, 'string')
  assert.type(doc.info.version, 'string')
})

/** What the router serves: each route at its path, and each but the global ones under /accounts/:account too. */
const served = routes.flatMap((r) => [r, ...(r.global ? [] : [{ ...r, path: `/accounts/:account${r.path}` }])])

table('documents every route of handlers/index.ts, and each account\'s copy of the routes that are not global', () => {
  const documented = new Set(operations().map((o) => `${o.method} ${o.path}`))
  for (const r of served) assert.ok(documented.has(`${r.method} ${toOpenApi(r.path)}`), `${r.method} ${r.path} is not documented`)
  assert.ok(served.some((r) => r.path === '/accounts/:account/send-poll'), 'prefixed routes are checked')
})

table('documents no route the table lacks', () => {
  const live = new Set(served.map((r) => `${r.method} ${toOpenApi(r.path)}`))
  for (const o of operations()) assert.ok(live.has(`${o.method} ${o.path}`), `${o.method} ${o.path} is documented but not routed`)
})

table("an account's copy is the route's operation with the account parameter and a 404 for an unknown account", () => {
  for (const r of served.filter((x) => x.path.startsWith('/accounts/:account/'))) {
    const op = doc.paths[toOpenApi(r.path)][r.method.toLowerCase()]
    const plain = doc.paths[toOpenApi(r.path.slice('/accounts/:account'.length))][r.method.toLowerCase()]
    assert.is(op.operationId, `${plain.operationId}OfAccount`)
    assert.equal(Object.keys(op.responses).sort(), [...new Set([...Object.keys(plain.responses), '404'])].sort(), r.path)
    assert.match(op.responses['404'].description, /no such account/)
    assert.is(op.parameters[0].name, 'account')
  }
})

table('public routes need no token, the others say 401', () => {
  for (const r of served) {
    const op = doc.paths[toOpenApi(r.path)][r.method.toLowerCase()]
    if (r.public) {
      assert.equal(op.security, [], `${r.path} is public`)
      assert.not.ok(op.responses['401'], `${r.path} is public`)
    } else {
      assert.is(op.security, undefined, `${r.path} uses the document's security`)
      assert.ok(op.responses['401'], `${r.path} lacks 401`)
    }
  }
})

table('who may call: every route says 421, every write 403 and 415', () => {
  for (const { method, path, op } of operations()) {
    assert.ok(op.responses['421'], `${method} ${path} lacks 421`)
    if (method === 'GET') continue
    assert.ok(op.responses['403'], `${method} ${path} lacks 403`)
    assert.ok(op.responses['415'], `${method} ${path} lacks 415`)
  }
})

table('each {param} is declared, operation ids are unique, every $ref resolves', () => {
  const ids = new Set<string>()
  for (const { path, op } of operations()) {
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    const declared = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name).sort()
    assert.equal(declared, inPath, path)
    assert.not.ok(ids.has(op.operationId), `duplicate ${op.operationId}`)
    ids.add(op.operationId)
    assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${path} has no success answer`)
  }
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []
  for (const r of refs) resolve(JSON.parse(`{${r}}`).$ref)
})

// ---

const answers = suite('openapi: handlers answer what it documents')
const POLL = samplePoll()
const VOTE = { voter: '15551110001@s.whatsapp.net', selected: ['Red'], senderTimestamp: 1, receivedAt: 2, status: 'counted' as const }
const handlerFor = (method: string, path: string) => {
  const r = routes.find((x) => x.method === method && x.path === path)
  if (!r) throw new Error(`no route ${method} ${path}`)
  return r.handler
}

async function conforms(method: string, path: string, req: Request, ctx: Context, expectStatus: number, params?: string) {
  const res = params ? await invokeRoute({ method, path }, handlerFor(method, path), req, ctx) : await invoke(handlerFor(method, path), req, ctx)
  assert.is(res.status, expectStatus, `${method} ${path}: ${JSON.stringify(res.body)}`)
  const documented = doc.paths[toOpenApi(path)][method.toLowerCase()].responses[String(res.status)]
  assert.ok(documented, `${method} ${path} answered ${res.status}, which is not documented`)
  const answer = documented.$ref ? resolve(documented.$ref) : documented
  const schema = answer.content?.['application/json']?.schema
  if (schema) assert.equal(check(schema, res.body), [], `${method} ${path} ${res.status}`)
}

answers('status, chats, polls, votes, health, logout', async () => {
  const session = fakeSession({ status: 'ready', user: { id: '1@s.whatsapp.net', name: 'Me' }, chats: [{ id: '1-2@g.us', name: 'G', isGroup: true }] })
  const ctx = fakeCtx({ session, polls: memoryPolls({ P1: POLL }, { P1: [VOTE] }) })
  await conforms('GET', '/status', get('/status'), ctx, 200)
  await conforms('GET', '/status', get('/status'), fakeCtx({ session: fakeSession({ status: 'qr_pending', qr: 'Q' }) }), 200)
  await conforms('GET', '/get-chats', get('/get-chats'), ctx, 200)
  await conforms('GET', '/get-all-poll-data', get('/get-all-poll-data'), ctx, 200)
  await conforms('GET', '/polls/:id', get('/polls/P1'), ctx, 200, '/polls/:id')
  await conforms('GET', '/polls/:id', get('/polls/nope'), ctx, 404, '/polls/:id')
  await conforms('GET', '/polls/:id/votes', get('/polls/P1/votes'), ctx, 200, '/polls/:id/votes')
  await conforms('GET', '/health', get('/health'), ctx, 200)
  await conforms('GET', '/health', get('/health'), fakeCtx({ store: { ok: () => false } }), 503)
  await conforms('POST', '/logout', post('/logout', {}), ctx, 200)
  await conforms('GET', '/openapi.json', get('/openapi.json'), ctx, 200)
})

answers('send-poll and pairing-code, success and failure', async () => {
  const body = { chatId: '120363000000000001@g.us', question: 'Q?', options: ['A', 'B'], allowMultipleAnswers: true }
  await conforms('POST', '/send-poll', post('/send-poll', body), fakeCtx(), 200)
  await conforms('POST', '/send-poll', post('/send-poll', { ...body, options: [] }), fakeCtx(), 400)
  await conforms('POST', '/send-poll', post('/send-poll', body), fakeCtx({ session: fakeSession({ status: 'disconnected' }) }), 503)
  await conforms('POST', '/send-poll', post('/send-poll', body), fakeCtx({ session: fakeSession({ fail: new Error('nope') }) }), 502)
  await conforms('POST', '/pairing-code', post('/pairing-code', { phoneNumber: '15551234567' }), fakeCtx({ session: fakeSession({ status: 'qr_pending' }) }), 200)
  await conforms('POST', '/pairing-code', post('/pairing-code', { phoneNumber: 'x' }), fakeCtx(), 400)
  await conforms('POST', '/pairing-code', post('/pairing-code', { phoneNumber: '15551234567' }), fakeCtx(), 409)
  await conforms('POST', '/send-poll', post('/send-poll', body, { 'content-type': 'text/plain' }), fakeCtx(), 415)
  await conforms('POST', '/pairing-code', new Request('http://localhost/pairing-code', { method: 'POST', body: new TextEncoder().encode('{}') }), fakeCtx(), 415)
  await conforms('POST', '/logout', post('/logout', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }), fakeCtx(), 415)
})

answers('accounts: list, add', async () => {
  const ids = ['default']
  const accounts = {
    list: () => ids.map((id) => ({ id, status: 'ready' as const, user: { id: `${id}@s.whatsapp.net`, name: id } })),
    add: async (id: string) => (ids.includes(id) ? null : (ids.push(id), { id, status: 'qr_pending' as const, user: null })),
    remove: async () => false,
  }
  await conforms('GET', '/accounts', get('/accounts'), fakeCtx({ accounts }), 200)
  await conforms('POST', '/accounts', post('/accounts', { id: 'shop' }), fakeCtx({ accounts }), 201)
  await conforms('POST', '/accounts', post('/accounts', { id: 'shop' }), fakeCtx({ accounts }), 409)
  await conforms('POST', '/accounts', post('/accounts', { id: 'Shop!' }), fakeCtx({ accounts }), 400)
})

answers('campaigns: create, list, one, actions, csv', async () => {
  const ctx = () => fakeCtx({ campaigns: fakeCampaigns([sampleCampaign(), sampleCampaign({ id: 'cmp_done', status: 'done', sent: 4, failed: 0 })]) })
  const body = { chatIds: ['120363000000000001@g.us', '15551110001@s.whatsapp.net'], question: 'Q?', options: ['A', 'B'], delayMs: { min: 0, max: 100 } }
  await conforms('POST', '/campaigns', post('/campaigns', body), ctx(), 202)
  await conforms('POST', '/campaigns', post('/campaigns', { ...body, chatIds: [] }), ctx(), 400)
  await conforms('POST', '/campaigns', post('/campaigns', body, { 'content-type': 'text/plain' }), ctx(), 415)
  await conforms('GET', '/campaigns', get('/campaigns'), ctx(), 200)
  await conforms('GET', '/campaigns/:id', get('/campaigns/cmp_1'), ctx(), 200, '/campaigns/:id')
  await conforms('GET', '/campaigns/:id', get('/campaigns/nope'), ctx(), 404, '/campaigns/:id')
  for (const action of ['pause', 'resume', 'cancel']) {
    const path = `/campaigns/:id/${action}`
    await conforms('POST', path, post(`/campaigns/cmp_1/${action}`, {}), ctx(), 200, path)
    await conforms('POST', path, post(`/campaigns/nope/${action}`, {}), ctx(), 404, path)
    await conforms('POST', path, post(`/campaigns/cmp_done/${action}`, {}), ctx(), 409, path)
    await conforms('POST', path, post(`/campaigns/cmp_1/${action}`, 'x=1', { 'content-type': 'application/x-www-form-urlencoded' }), ctx(), 415, path)
  }
  await conforms('GET', '/campaigns/:id/results.csv', get('/campaigns/cmp_1/results.csv'), ctx(), 200, '/campaigns/:id/results.csv')
  await conforms('GET', '/campaigns/:id/results.csv', get('/campaigns/nope/results.csv'), ctx(), 404, '/campaigns/:id/results.csv')
})

answers('the campaign request states the limits the handler enforces', () => {
  const req = doc.components.schemas.CreateCampaignRequest.properties
  assert.is(req.chatIds.maxItems, MAX_CAMPAIGN_CHATS)
  assert.is(req.chatIds.minItems, 1)
  assert.ok(new RegExp(req.chatIds.items.pattern).test('120363000000000001@g.us'))
  assert.not.ok(new RegExp(req.chatIds.items.pattern).test('status@broadcast'))
  assert.is(req.delayMs.properties.max.maximum, MAX_CAMPAIGN_DELAY_MS)
  assert.equal(req.delayMs.default, DEFAULT_CAMPAIGN_DELAY)
  assert.equal(req.options, doc.components.schemas.SendPollRequest.properties.options)
})

answers('the handler serves the document itself', async () => {
  const res = await invoke(openApi, get('/openapi.json'))
  assert.is(res.status, 200)
  assert.equal(res.body, doc)
})

table.run()
answers.run()
