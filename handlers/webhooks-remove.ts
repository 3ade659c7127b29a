import type { Handler } from '../contract/http.ts'
import { webhooksOf } from './lib/webhooks.ts'
import { HttpError, json } from '../contract/http.ts'

/** DELETE /webhooks/:id — removes an endpoint added through the API, with its deliveries. */
export const webhooksRemove: Handler = async (_req, ctx) => {
  const webhooks = webhooksOf(ctx)
  const id = ctx.params.id ?? ''
  const done = await webhooks.remove(id)
  if (done === 'unknown') throw new HttpError(404, `no webhook endpoint with id ${id}`)
  if (done === 'env') throw new HttpError(409, `webhook endpoint ${id} comes from WEBHOOK_URL; remove it there and restart`)
  ctx.log.info({ endpointId: id }, 'webhook endpoint removed')
  return json(200, { success: true, message: `webhook endpoint ${id} removed` })
}
