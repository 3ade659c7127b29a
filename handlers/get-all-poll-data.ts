import type { Handler } from '../runtime/context.ts'
import { json } from './lib/http.ts'

/** GET /get-all-poll-data — every poll with its live tally, keyed by poll message id. */
export const getAllPollData: Handler = (_req, ctx) => ctx.polls.allJson
  ? new Response(ctx.polls.allJson(), { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } })
  : json(200, { success: true, polls: ctx.polls.all() })
