import { json, type Handler } from '../contract/http.ts'
import { campaignsOf } from './lib/campaigns.ts'
import { parseCampaignInput } from './lib/campaign-input.ts'
import { readJsonObject } from './lib/http.ts'

/** POST /campaigns — commits the campaign and its chats, then sends in the background (202). */
export const campaignsCreate: Handler = async (req, ctx) => {
  const campaigns = campaignsOf(ctx)
  const input = parseCampaignInput(await readJsonObject(req))
  const { campaignId, total } = await campaigns.create(input)
  ctx.log.info({ campaignId, total }, 'campaign created')
  return json(202, { success: true, campaignId, total })
}
