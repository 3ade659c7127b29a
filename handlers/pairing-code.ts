import { HttpError, json, type Handler } from '../contract/http.ts'
import { readJsonObject } from './lib/http.ts'

/** POST /pairing-code — links by an 8-character code typed on the phone instead of a QR. */
export const pairingCode: Handler = async (req, ctx) => {
  const { phoneNumber } = await readJsonObject(req)
  const digits = typeof phoneNumber === 'string' ? phoneNumber.replace(/[\s+()-]/g, '') : ''
  if (!/^[0-9]{6,15}$/.test(digits)) {
    throw new HttpError(400, 'phoneNumber must be the international number, digits only (e.g. 15551234567)')
  }
  return json(200, { success: true, code: await ctx.session.requestPairingCode(digits) })
}
