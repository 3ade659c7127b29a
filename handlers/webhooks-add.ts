import type { WebhookEventType } from '../contract/webhooks.ts'
import { ACCOUNT_ID } from '../contract/limits.ts'
import { eventsProblem, urlProblem } from '../contract/webhooks.ts'
import type { Handler } from '../contract/http.ts'
import { webhooksOf } from './lib/webhooks.ts'
import { HttpError, json } from '../contract/http.ts'
import { readJsonObject } from './lib/http.ts'

/** POST /webhooks — adds an endpoint `{ url, events?, account? }`; its secret is in this answer only. */
export const webhooksAdd: Handler = async (req, ctx) => {
  const webhooks = webhooksOf(ctx)
  const body = await readJsonObject(req)
  const problem = urlProblem(body.url) ?? eventsProblem(body.events)
  if (problem) throw new HttpError(400, problem)
  const account = body.account ?? null
  if (account !== null && (typeof account !== 'string' || !ACCOUNT_ID.test(account))) {
    throw new HttpError(400, 'account must be an account id ([a-z0-9_-]{1,32}), or be left out for every account')
  }
  const { endpoint, secret } = await webhooks.add({
    url: body.url as string,
    events: (body.events ?? null) as WebhookEventType[] | null,
    account: account as string | null,
  })
  ctx.log.info({ endpointId: endpoint.id, events: endpoint.events }, 'webhook endpoint added')
  return json(201, { success: true, endpoint, secret })
}
