import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { webhooksList } from '../../handlers/webhooks-list.ts'
import { T0, addEndpoint, call, event, webhooksCtx } from './admin-ctx.ts'

const list = suite('GET /webhooks')

list('endpoints with health and backlog, and never a secret', async () => {
  const { ctx, outbox } = webhooksCtx()
  await addEndpoint(outbox, 'A')
  await addEndpoint(outbox, 'B', 'env')
  outbox.appendEvents([event('msg_1'), event('msg_2', 'poll:P2')])
  const [d] = await outbox.claim('A', 1, T0)
  await outbox.settle(d!.id, { status: 'retry', at: T0 + 5, nextAt: T0 + 5000, error: 'HTTP 502', httpStatus: 502 })
  const res = await call(webhooksList, ctx, 'GET', '/webhooks', '/webhooks')
  assert.is(res.status, 200)
  assert.is(res.body.success, true)
  assert.equal(res.body.endpoints.map((e: any) => [e.id, e.source, e.health]), [
    ['A', 'api', { lastSuccessAt: null, lastFailureAt: T0 + 5, lastError: 'HTTP 502', consecutiveFailures: 1, backlog: 2 }],
    ['B', 'env', { lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0, backlog: 2 }],
  ])
  assert.not.match(JSON.stringify(res.body), /whsec_/)
})

list('an empty list when none is configured', async () => {
  const { ctx } = webhooksCtx()
  assert.equal((await call(webhooksList, ctx, 'GET', '/webhooks', '/webhooks')).body, { success: true, endpoints: [] })
})

list.run()
