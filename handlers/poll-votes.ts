import { HttpError, json, type Handler } from '../contract/http.ts'

/** GET /polls/:id/votes — every vote received for the poll, oldest first, with its status. */
export const pollVotes: Handler = async (_req, ctx) => {
  const votes = await ctx.polls.votes(ctx.params.id ?? '')
  if (!votes) throw new HttpError(404, `no poll with id ${ctx.params.id}`)
  return json(200, { success: true, votes })
}
