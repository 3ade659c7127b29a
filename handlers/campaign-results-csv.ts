import { type Handler, HttpError } from '../contract/http.ts'
import { campaignsOf } from './lib/campaigns.ts'
import { cell, csvResponse } from './lib/csv.ts'

/**
 * GET /campaigns/:id/results.csv — the combined `option,votes` rows, each chat's own tally
 * (`chat,<options…>`), then every person counted (`voter,options,chat,sender_timestamp_ms`).
 */
export const campaignResultsCsv: Handler = (_req, ctx) => {
  const campaigns = campaignsOf(ctx)
  const id = ctx.params.id ?? ''
  const k = campaigns.get(id)
  const voters = campaigns.voters(id)
  if (!k || !voters) throw new HttpError(404, `no campaign with id ${id}`)
  const lines = ['option,votes']
  for (const option of k.options) lines.push(`${cell(option)},${k.results[option] ?? 0}`)
  lines.push('', ['chat', 'name', ...k.options].map(cell).join(','))
  for (const c of k.chats) {
    const r = k.perChat[c.chatId]
    if (r) lines.push([c.chatId, c.name, ...k.options.map((o) => r[o] ?? 0)].map(cell).join(','))
  }
  lines.push('', 'voter,options,chat,sender_timestamp_ms')
  for (const v of voters) lines.push([v.voter, v.selected.join('; '), v.chatId, v.senderTimestampMs].map(cell).join(','))
  return csvResponse(lines, `campaign-${id}.csv`)
}
