import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { webhooksDeliveries } from '../../handlers/webhooks-deliveries.ts'
import { T0, addEndpoint, call, event, webhooksCtx } from './admin-ctx.ts'

const deliveries = suite('GET /webhooks/deliveries')
const get = (ctx: ReturnType<typeof webhooksCtx>['ctx'], query = '') =>
  call(webhooksDeliveries, ctx, 'GET', '/webhooks/deliveries', `/webhooks/deliveries${query}`)

async function filled() {
  const made = webhooksCtx()
  await addEndpoint(made.outbox, 'A')
  await addEndpoint(made.outbox, 'B')
  made.outbox.appendEvents([event('msg_1'), event('msg_2', 'poll:P2')])
  const [d1, d2] = await made.outbox.claim('A', 2, T0)
  await made.outbox.settle(d1!.id, { status: 'failed', at: T0 + 1, error: 'HTTP 410: gone', httpStatus: 410 })
  await made.outbox.settle(d2!.id, { status: 'delivered', at: T0 + 1, httpStatus: 204 })
  return { ...made, failedId: d1!.id }
}

deliveries('status=failed lists failed deliveries with attempts and last error', async () => {
  const { ctx, failedId } = await filled()
  const res = await get(ctx, '?status=failed')
  assert.is(res.status, 200)
  assert.equal(res.body.deliveries, [{
    id: failedId, eventId: 'msg_1', endpointId: 'A', type: 'poll.vote', status: 'failed', attempts: 1, nextAt: T0,
    lastError: 'HTTP 410: gone', lastStatus: 410, createdAt: T0,
  }])
})

deliveries('every status by default, newest first; endpoint and limit narrow it', async () => {
  const { ctx } = await filled()
  assert.is((await get(ctx)).body.deliveries.length, 4)
  assert.equal((await get(ctx, '?status=pending')).body.deliveries.map((d: any) => d.endpointId), ['B', 'B'])
  assert.equal((await get(ctx, '?endpoint=A&status=delivered')).body.deliveries.map((d: any) => d.eventId), ['msg_2'])
  assert.is((await get(ctx, '?limit=1')).body.deliveries.length, 1)
})

deliveries('400 for another status or a bad limit', async () => {
  const { ctx } = await filled()
  for (const q of ['?status=lost', '?status=', '?limit=0', '?limit=1001', '?limit=ten', '?limit=-1']) {
    const res = await get(ctx, q)
    assert.is(res.status, 400, q)
    assert.match(res.body.message, /^(status must be one of pending, delivered, failed|limit must be)/)
  }
})

deliveries.run()
