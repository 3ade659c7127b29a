import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { webhooksRemove } from '../../handlers/webhooks-remove.ts'
import { addEndpoint, call, event, webhooksCtx } from './admin-ctx.ts'

const remove = suite('DELETE /webhooks/:id')
const del = (ctx: ReturnType<typeof webhooksCtx>['ctx'], id: string) => call(webhooksRemove, ctx, 'DELETE', '/webhooks/:id', `/webhooks/${id}`)

remove('removes an API endpoint and its deliveries', async () => {
  const { ctx, outbox } = webhooksCtx()
  await addEndpoint(outbox, 'A')
  outbox.appendEvents([event('msg_1')])
  const res = await del(ctx, 'A')
  assert.equal([res.status, res.body.success], [200, true])
  assert.equal(await outbox.endpoints(), [])
  assert.equal(await outbox.list({ limit: 10 }), [])
})

remove('404 for an unknown id', async () => {
  const { ctx } = webhooksCtx()
  const res = await del(ctx, 'ep_nope')
  assert.is(res.status, 404)
  assert.match(res.body.message, /ep_nope/)
})

remove('409 for an endpoint from WEBHOOK_URL: it would come back at the next start', async () => {
  const { ctx, outbox } = webhooksCtx()
  await addEndpoint(outbox, 'E', 'env')
  const res = await del(ctx, 'E')
  assert.is(res.status, 409)
  assert.match(res.body.message, /WEBHOOK_URL/)
  assert.is((await outbox.endpoints()).length, 1)
})

remove.run()
