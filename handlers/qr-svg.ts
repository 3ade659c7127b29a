import { type Handler, HttpError } from '../contract/http.ts'

/** GET /status/qr.svg — the current pairing QR as an image, for browsers that cannot draw one. */
export const qrSvg: Handler = async (_req, ctx) => {
  const qr = ctx.session.status() === 'qr_pending' ? ctx.session.qr() : null
  if (!qr) throw new HttpError(404, 'no QR code to scan: WhatsApp is not waiting for a pairing')
  if (!ctx.qrSvg) throw new HttpError(404, 'this server does not draw QR codes')
  return new Response(await ctx.qrSvg(qr), {
    status: 200,
    // A QR is valid for about 20 seconds; a cached one would link nothing.
    headers: { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store' },
  })
}
