import { type Handler, json } from '../contract/http.ts'
import { publicStatus } from '../contract/account.ts'

/** GET /health — 200 while the store answers, 503 when it does not. */
export const health: Handler = (_req, ctx) => {
  const ok = ctx.store.ok()
  return json(ok ? 200 : 503, { ok, whatsapp: publicStatus(ctx.session.status()), store: ok ? 'ok' : 'error' })
}
