import { createWebhooksAdmin } from '../../core/webhooks/admin.ts'
import { type WebhooksAdmin } from '../../contract/webhooks.ts'
import { createMemoryOutbox } from '../../store/memory/outbox.ts'
import type { Outbox, OutboxEvent } from '../../store/outbox-port.ts'
import type { Context, Handler } from '../../contract/http.ts'
import { createRouter } from '../../runtime/router.ts'
import { fakeCtx } from '../fakes.ts'

export const T0 = 1_750_000_000_000

/** A context whose `webhooks` is the real admin over an in-memory outbox. */
export function webhooksCtx() {
  const clock = { t: T0 }
  const outbox = createMemoryOutbox({ now: () => clock.t })
  let wakes = 0
  const webhooks = createWebhooksAdmin({ outbox, worker: { wake: () => { wakes++ } } })
  const ctx = { ...fakeCtx(), webhooks } as Context & { webhooks: WebhooksAdmin }
  return { ctx, outbox, clock, wakes: () => wakes }
}

/** Runs `handler` behind the real router at `pattern`, so params and error bodies are production's. */
export async function call(handler: Handler, ctx: Context, method: string, pattern: string, path: string, body?: unknown) {
  const dispatch = createRouter([{ method, path: pattern, handler }], ctx)
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' }
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
  }
  const res = await dispatch(new Request(`http://localhost${path}`, init))
  return { status: res.status, body: await res.json() as any }
}

export const event = (id: string, orderKey = 'poll:P1', createdAt = T0): OutboxEvent =>
  ({ id, account: 'default', type: 'poll.vote', orderKey, createdAt, body: '{"type":"poll.vote"}' })

export async function addEndpoint(outbox: Outbox, id: string, source: 'api' | 'env' = 'api') {
  return outbox.addEndpoint({ id, url: `http://127.0.0.1:9/${id}`, events: null, account: null, source, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
}
