import { type Handler, HttpError } from '../contract/http.ts'

/** GET /metrics — Prometheus text: votes, polls, reconnects, HTTP requests. */
export const metrics: Handler = async (_req, ctx) => {
  if (!ctx.metrics) throw new HttpError(404, 'metrics are not collected by this server')
  return new Response(await ctx.metrics.text(), {
    status: 200,
    headers: { 'content-type': ctx.metrics.contentType, 'cache-control': 'no-store' },
  })
}
