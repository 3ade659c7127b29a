import { type Handler, HttpError } from '../contract/http.ts'
import { cell, csvResponse } from './lib/csv.ts'

/** GET /polls/:id/results.csv — `option,votes` rows, then `voter,options` rows. */
export const pollResultsCsv: Handler = (_req, ctx) => {
  const id = ctx.params.id ?? ''
  const poll = ctx.polls.get(id)
  if (!poll) throw new HttpError(404, `no poll with id ${id}`)
  const lines = ['option,votes']
  for (const option of poll.options) lines.push(`${cell(option)},${poll.results[option] ?? 0}`)
  lines.push('', 'voter,options')
  for (const [voter, hashes] of Object.entries(poll.voters)) {
    const texts = hashes.map((h) => poll.optionHashes[h] ?? h).join('; ')
    lines.push(`${cell(voter)},${cell(texts)}`)
  }
  return csvResponse(lines, `poll-${id.replace(/[^A-Za-z0-9_-]/g, '')}.csv`)
}
