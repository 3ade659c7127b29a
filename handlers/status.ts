import { type Handler, json } from '../contract/http.ts'
import { publicStatus } from '../contract/account.ts'

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
