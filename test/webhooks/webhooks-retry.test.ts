import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { webhooksRetry } from '../../handlers/webhooks-retry.ts'
import { T0, addEndpoint, call, event, webhooksCtx } from './admin-ctx.ts'

const retry = suite('POST /webhooks/deliveries/:id/retry')
const post = (ctx: ReturnType<typeof webhooksCtx>['ctx'], id: string) =>
  call(webhooksRetry, ctx, 'POST', '/webhooks/deliveries/:id/retry', `/webhooks/deliveries/${id}/retry`)

retry('a failed delivery becomes pending and due now, attempts kept, and the worker is woken', async () => {
  const { ctx, outbox, clock, wakes } = webhooksCtx()
  await addEndpoint(outbox, 'A')
  outbox.appendEvents([event('msg_1')])
  const [d] = await outbox.claim('A', 1, T0)
  await outbox.settle(d!.id, { status: 'failed', at: T0 + 1, error: 'gave up' })
  clock.t = T0 + 90_000_000
  const res = await post(ctx, d!.id)
  assert.is(res.status, 200)
  assert.equal([res.body.delivery.id, res.body.delivery.status, res.body.delivery.attempts, res.body.delivery.nextAt], [d!.id, 'pending', 1, clock.t])
  assert.is(wakes(), 1)
})

retry('404 for an unknown delivery', async () => {
  const { ctx, wakes } = webhooksCtx()
  const res = await post(ctx, '12345')
  assert.is(res.status, 404)
  assert.match(res.body.message, /12345/)
  assert.is(wakes(), 0)
})

retry.run()
