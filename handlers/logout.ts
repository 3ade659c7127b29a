import { type Handler, json } from '../contract/http.ts'

/** POST /logout — unlinks the device, clears credentials and starts a fresh pairing. */
export const logout: Handler = async (_req, ctx) => {
  await ctx.session.logout()
  ctx.log.info('logged out')
  return json(200, {
    success: true,
    message: 'Logged out and local session cleared. Scan the new QR code to link again.',
  })
}
