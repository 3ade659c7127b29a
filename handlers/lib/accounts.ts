import { HttpError, type Context } from '../../contract/http.ts'
import type { AccountsAdmin } from '../../contract/account.ts'

/** The accounts side of the context, or a 404 where the runtime serves one account only. */
export function accountsOf(ctx: Context): AccountsAdmin {
  if (!ctx.accounts) throw new HttpError(404, 'this server serves one account only')
  return ctx.accounts
}
