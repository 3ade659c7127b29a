import { HttpError, type Context } from '../../contract/http.ts'
import type { WebhooksAdmin } from '../../contract/webhooks.ts'

/** The webhooks side of the context, or a 404 where the runtime has none. */
export function webhooksOf(ctx: Context): WebhooksAdmin {
  if (!ctx.webhooks) throw new HttpError(404, 'webhooks are not available on this server')
  return ctx.webhooks
}
