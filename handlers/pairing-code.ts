import type { Handler } from '../runtime/context.ts'
import { HttpError, json, readJsonObject } from './lib/http.ts'

/** POST /pairing-code — links by an 8-character code typed on the phone instead of a QR. */
export const pairingCode: Handler = async (req, ctx) => {
  const { phoneNumber } = await readJsonObject(req)
  const digits = typeof phoneNumber === 'string' ? phoneNumber.replace(/[\s+()-]/g, '') : ''
  if (!/^[0-9]{6,15}$/.test(digits)) {
    throw new HttpError(400, 'phoneNumber must be the international number, digits only (e.g. 15551234567)')
  }
  const state = ctx.session.status()
  if (state === 'ready') throw new HttpError(409, 'already linked; log out first')
  if (state !== 'qr_pending') throw new HttpError(503, 'not connected to WhatsApp yet; try again in a moment')
  let code: string
  try {
    code = await ctx.session.requestPairingCode(digits)
  } catch (err) {
    throw new HttpError(502, 'WhatsApp did not issue a pairing code', err instanceof Error ? err.message : String(err))
  }
  return json(200, { success: true, code })
}
