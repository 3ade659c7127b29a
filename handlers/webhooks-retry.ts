import type { Handler } from '../contract/http.ts'
import { webhooksOf } from './lib/webhooks.ts'
import { HttpError, json } from '../contract/http.ts'

/** POST /webhooks/deliveries/:id/retry — sends a delivery again now (a failed one gets one more attempt). */
export const webhooksRetry: Handler = async (_req, ctx) => {
  const webhooks = webhooksOf(ctx)
  const id = ctx.params.id ?? ''
  const delivery = await webhooks.retry(id)
  if (!delivery) throw new HttpError(404, `no webhook delivery with id ${id}`)
  ctx.log.info({ deliveryId: id, endpointId: delivery.endpointId }, 'webhook delivery retried')
  return json(200, { success: true, delivery })
}
