import { HttpError, json, type Handler } from '../contract/http.ts'
import { actionFailed, campaignsOf } from './lib/campaigns.ts'

const action = (name: 'pause' | 'resume' | 'cancel'): Handler => async (_req, ctx) => {
  const campaigns = campaignsOf(ctx)
  const id = ctx.params.id ?? ''
  const refused = actionFailed(await campaigns[name](id), id)
  if (refused) throw refused
  const now = campaigns.get(id)
  if (!now) throw new HttpError(404, `no campaign with id ${id}`)
  ctx.log.info({ campaignId: id, status: now.status }, `campaign ${name}`)
  return json(200, { success: true, campaignId: id, status: now.status })
}

/** POST /campaigns/:id/pause — no more sends until resumed (the one under way finishes). */
export const campaignPause = action('pause')
/** POST /campaigns/:id/resume — sends again where it stopped. */
export const campaignResume = action('resume')
/** POST /campaigns/:id/cancel — no more sends, ever; chats not sent are `cancelled`. */
export const campaignCancel = action('cancel')
