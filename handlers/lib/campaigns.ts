import type { CampaignActionResult, Campaigns } from '../../contract/campaigns.ts'
import { HttpError, type Context } from '../../contract/http.ts'

/** The account's campaigns, or a 404 where the runtime runs none. */
export function campaignsOf(ctx: Context): Campaigns {
  if (!ctx.campaigns) throw new HttpError(404, 'campaigns are not available on this server')
  return ctx.campaigns
}

/** An action's refusal as HTTP: no such campaign (404), or one that already ended (409). */
export function actionFailed(result: CampaignActionResult, id: string): HttpError | null {
  if (result === 'unknown') return new HttpError(404, `no campaign with id ${id}`)
  if (result === 'finished') return new HttpError(409, `campaign ${id} has ended (done or cancelled): nothing to change`)
  return null
}
