import type { Handler } from '../contract/http.ts'
import type { PollReader, PollView } from '../contract/polls.ts'

/**
 * The last body per poll reader. Views are immutable and replaced on every visible change
 * (contract/polls.ts), so the same views in the same order are the same body: a client that
 * polls this endpoint costs a write, not a stringify of every poll.
 */
const bodies = new WeakMap<PollReader, { views: PollView[]; body: Uint8Array<ArrayBuffer> }>()

/** GET /get-all-poll-data — every poll with its live tally, keyed by poll message id. */
export const getAllPollData: Handler = (_req, ctx) => {
  const polls = ctx.polls.all()
  const views = Object.values(polls)
  let hit = bodies.get(ctx.polls)
  if (!hit || hit.views.length !== views.length || hit.views.some((v, i) => v !== views[i])) {
    hit = { views, body: new TextEncoder().encode(JSON.stringify({ success: true, polls })) as Uint8Array<ArrayBuffer> }
    bodies.set(ctx.polls, hit)
  }
  return new Response(hit.body, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } })
}
