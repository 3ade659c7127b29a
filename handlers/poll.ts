import { type Handler, HttpError, json } from '../contract/http.ts'

/** GET /polls/:id — one poll with its live tally. */
export const poll: Handler = (_req, ctx) => {
  const found = ctx.polls.get(ctx.params.id ?? '')
  if (!found) throw new HttpError(404, `no poll with id ${ctx.params.id}`)
  return json(200, { success: true, pollMsgId: ctx.params.id, ...found })
}
