import type { DeliveryStatus } from '../contract/webhooks.ts'
import type { Handler } from '../contract/http.ts'
import { webhooksOf } from './lib/webhooks.ts'
import { HttpError, json } from '../contract/http.ts'

const STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed']
const MAX_LIMIT = 1000

/** GET /webhooks/deliveries?status=&endpoint=&limit= — deliveries, newest first, with attempts and last error. */
export const webhooksDeliveries: Handler = async (req, ctx) => {
  const webhooks = webhooksOf(ctx)
  const q = new URL(req.url).searchParams
  const status = q.get('status') ?? undefined
  if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) {
    throw new HttpError(400, `status must be one of ${STATUSES.join(', ')}`)
  }
  const limitText = q.get('limit') ?? '100'
  const limit = /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : NaN
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
  const endpointId = q.get('endpoint') ?? undefined
  const deliveries = await webhooks.deliveries({ status: status as DeliveryStatus | undefined, endpointId, limit })
  return json(200, { success: true, deliveries })
}
