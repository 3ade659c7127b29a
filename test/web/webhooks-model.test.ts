import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EVENT_TYPES, type Delivery, type EndpointView } from '../../contract/webhooks.ts'
import { ago, EVENT_CHOICES, endpointRequest, endpointRows, failedRows, healthOf, shortError } from '../../web/app/webhooks-model.js'

const model = suite('web/app/webhooks-model')
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)

type Health = EndpointView['health']
const endpoint = (over: Partial<Omit<EndpointView, 'health'>> & { health?: Partial<Health> } = {}): EndpointView => ({
  id: 'ep_1', url: 'http://127.0.0.1:9000/hook', events: null, account: null, source: 'api', createdAt: NOW - 60_000,
  ...over,
  health: { lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0, backlog: 0, ...over.health },
})

const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  id: '1', eventId: 'msg_1', endpointId: 'ep_1', type: 'poll.vote', status: 'failed', attempts: 2, nextAt: NOW, createdAt: NOW - 10_000, ...over,
})

model('the event choices are exactly the server\'s event types, in its order', () => {
  assert.equal(EVENT_CHOICES.map((c) => c.type), [...EVENT_TYPES])
  assert.ok(EVENT_CHOICES.every((c) => c.label.length > 0))
})

model('ago: never, just now, seconds, minutes, hours, then the date', () => {
  assert.is(ago(null, NOW), 'never')
  assert.is(ago(0, NOW), 'never')
  assert.is(ago(NOW - 2000, NOW), 'just now')
  assert.is(ago(NOW - 40_000, NOW), '40 s ago')
  assert.is(ago(NOW - 5 * 60_000 - 10_000, NOW), '5 min ago')
  assert.is(ago(NOW - 3 * 3_600_000, NOW), '3 h ago')
  assert.is(ago(NOW - 3 * 86_400_000, NOW), new Date(NOW - 3 * 86_400_000).toLocaleString())
})

model('shortError: one line, cut with an ellipsis', () => {
  assert.is(shortError(null), '')
  assert.is(shortError(' HTTP 500:\n  oops '), 'HTTP 500: oops')
  const long = shortError('x'.repeat(500), 20)
  assert.is(long.length, 20)
  assert.ok(long.endsWith('…'))
})

model('healthOf: failing while failures run, ok after a success, idle before any', () => {
  assert.is(healthOf(endpoint()), 'idle')
  assert.is(healthOf(endpoint({ health: { lastSuccessAt: NOW - 1000 } })), 'ok')
  assert.is(healthOf(endpoint({ health: { lastSuccessAt: NOW - 1000, consecutiveFailures: 1, lastFailureAt: NOW } })), 'failing')
})

model('endpointRows: env endpoints first, then by age; events, source, removability and health in words', () => {
  const rows = endpointRows([
    endpoint({ id: 'ep_b', createdAt: NOW - 1000, events: ['poll.vote', 'poll.sent'],
      health: { consecutiveFailures: 3, lastFailureAt: NOW - 30_000, lastError: 'connection failed: fetch failed (ECONNREFUSED)', backlog: 7 } }),
    endpoint({ id: 'ep_a', createdAt: NOW - 5000, health: { lastSuccessAt: NOW - 120_000, lastFailureAt: NOW - 3_600_000 } }),
    endpoint({ id: 'ep_env', source: 'env', createdAt: NOW }),
  ], NOW)
  assert.equal(rows.map((r) => r.id), ['ep_env', 'ep_a', 'ep_b'])
  const [env, ok, failing] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]]
  assert.is(env.removable, false)
  assert.is(env.source, 'from WEBHOOK_URL')
  assert.is(env.events, 'all events')
  assert.is(env.summary, 'no deliveries yet · nothing waiting')
  assert.is(ok.removable, true)
  assert.is(ok.source, 'added here')
  assert.is(ok.summary, 'healthy: last delivery 2 min ago · last failure 1 h ago · nothing waiting')
  assert.is(ok.error, '')
  assert.is(failing.health, 'failing')
  assert.is(failing.events, 'poll.vote, poll.sent')
  assert.is(failing.summary, 'failing: 3 failures in a row, last 30 s ago · 7 waiting')
  assert.is(failing.error, 'connection failed: fetch failed (ECONNREFUSED)')
  assert.is(failing.backlog, 7)
})

model('failedRows: failed only, newest first, with the endpoint URL (or its id when gone)', () => {
  const rows = failedRows([
    delivery({ id: '1', createdAt: NOW - 60_000, lastError: 'HTTP 500: boom', attempts: 1 }),
    delivery({ id: '2', createdAt: NOW - 1000, endpointId: 'ep_gone', lastStatus: 503 }),
    delivery({ id: '3', status: 'delivered' }),
  ], [{ id: 'ep_1', url: 'http://127.0.0.1:9000/hook' }], NOW)
  assert.equal(rows.map((r) => r.id), ['2', '1'])
  assert.equal(rows[0], { id: '2', eventId: 'msg_1', type: 'poll.vote', endpoint: 'ep_gone', attempts: '2 attempts', error: 'HTTP 503', fullError: 'HTTP 503', when: 'just now' })
  assert.is(rows[1]!.endpoint, 'http://127.0.0.1:9000/hook')
  assert.is(rows[1]!.attempts, '1 attempt')
  assert.is(rows[1]!.error, 'HTTP 500: boom')
  assert.is(rows[1]!.when, '1 min ago')
})

model('endpointRequest: the POST /webhooks body, or what is wrong', () => {
  assert.equal(endpointRequest({ url: ' https://example.org/h ', events: [] }), { ok: true, body: { url: 'https://example.org/h' } })
  assert.equal(endpointRequest({ url: 'http://127.0.0.1:8080/', events: ['poll.vote', 'nonsense'] }),
    { ok: true, body: { url: 'http://127.0.0.1:8080/', events: ['poll.vote'] } })
  const problem = (url: string) => { const r = endpointRequest({ url, events: [] }); return r.ok ? null : r.message }
  assert.match(problem('') ?? '', /URL/)
  assert.match(problem('not a url') ?? '', /not a URL/)
  assert.match(problem('ftp://example.org/') ?? '', /http/)
  assert.match(problem('https://user:pw@example.org/') ?? '', /password/)
})

model.run()
