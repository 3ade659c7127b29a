import type { WebhooksAdmin } from '../contract/webhooks.ts'
import type { Context, Handler } from '../contract/http.ts'
import { HttpError, json } from '../contract/http.ts'

/** DELETE /webhooks/:id — removes an endpoint added through the API, with its deliveries. */
export const webhooksRemove: Handler = async (_req, ctx) => {
  // The lead moves `webhooks` into Context; until then the runtime adds it beside the rest.
  const { webhooks } = ctx as Context & { webhooks: WebhooksAdmin }
  const id = ctx.params.id ?? ''
  const done = await webhooks.remove(id)
  if (done === 'unknown') throw new HttpError(404, `no webhook endpoint with id ${id}`)
  if (done === 'env') throw new HttpError(409, `webhook endpoint ${id} comes from WEBHOOK_URL; remove it there and restart`)
  ctx.log.info({ endpointId: id }, 'webhook endpoint removed')
  return json(200, { success: true, message: `webhook endpoint ${id} removed` })
}
