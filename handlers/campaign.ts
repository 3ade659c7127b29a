import { HttpError, json, type Handler } from '../contract/http.ts'
import { campaignsOf } from './lib/campaigns.ts'

/** GET /campaigns/:id — progress, every chat's state, the combined result and each chat's own. */
export const campaign: Handler = (_req, ctx) => {
  const id = ctx.params.id ?? ''
  const found = campaignsOf(ctx).get(id)
  if (!found) throw new HttpError(404, `no campaign with id ${id}`)
  return json(200, { success: true, campaign: found })
}
