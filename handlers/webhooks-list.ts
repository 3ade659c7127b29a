import type { WebhooksAdmin } from '../contract/webhooks.ts'
import type { Context, Handler } from '../contract/http.ts'
import { json } from '../contract/http.ts'

/** GET /webhooks — the webhook endpoints with their health; secrets are never shown again. */
export const webhooksList: Handler = async (_req, ctx) => {
  // The lead moves `webhooks` into Context; until then the runtime adds it beside the rest.
  const { webhooks } = ctx as Context & { webhooks: WebhooksAdmin }
  return json(200, { success: true, endpoints: await webhooks.list() })
}
