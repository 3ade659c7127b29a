import type { Handler } from '../runtime/context.ts'
import { json } from './lib/http.ts'
import { publicStatus } from './lib/public-status.ts'

/** GET /status — connection state, the QR while pairing, the account while ready. */
export const status: Handler = (_req, ctx) => {
  const state = ctx.session.status()
  const shown = publicStatus(state)
  return json(200, {
    status: shown,
    qrCode: shown === 'qr_pending' ? ctx.session.qr() : null,
    user: shown === 'ready' ? ctx.session.user() : null,
    state,
  })
}
