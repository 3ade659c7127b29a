import type { Handler } from '../contract/http.ts'
import { webhooksOf } from './lib/webhooks.ts'
import { json } from '../contract/http.ts'

/** GET /webhooks — the webhook endpoints with their health; secrets are never shown again. */
export const webhooksList: Handler = async (_req, ctx) => {
  const webhooks = webhooksOf(ctx)
  return json(200, { success: true, endpoints: await webhooks.list() })
}
