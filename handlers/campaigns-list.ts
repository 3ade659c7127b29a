import { json, type Handler } from '../contract/http.ts'
import { campaignsOf } from './lib/campaigns.ts'

/** GET /campaigns — every campaign of the account, newest first, without its chat list. */
export const campaignsList: Handler = (_req, ctx) =>
  json(200, { success: true, campaigns: campaignsOf(ctx).list().reverse() })
