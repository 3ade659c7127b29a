import { json, type Handler } from '../contract/http.ts'
import { accountsOf } from './lib/accounts.ts'

/** GET /accounts — every account with its connection state, and its user while ready. */
export const accountsList: Handler = (_req, ctx) => json(200, { success: true, accounts: accountsOf(ctx).list() })
