import { HttpError, json, type Handler } from '../contract/http.ts'
import { accountsOf } from './lib/accounts.ts'

/** DELETE /accounts/:id[?purge=true] — logs the account out and forgets it; `purge` deletes its polls and votes too. */
export const accountsRemove: Handler = async (req, ctx) => {
  const accounts = accountsOf(ctx)
  const id = ctx.params.id ?? ''
  const purgeParam = new URL(req.url).searchParams.get('purge')
  if (purgeParam !== null && purgeParam !== 'true' && purgeParam !== 'false') throw new HttpError(400, 'purge must be true or false')
  const purge = purgeParam === 'true'
  if (id === 'default') throw new HttpError(409, 'the default account cannot be deleted; log it out with POST /logout')
  if (!await accounts.remove(id, purge)) throw new HttpError(404, `no account with id ${JSON.stringify(id)}`)
  ctx.log.info({ account: id, purge }, 'account removed')
  return json(200, {
    success: true,
    message: purge ? `account ${id} logged out and deleted with its polls and votes` : `account ${id} logged out and deleted; its polls and votes are kept`,
  })
}
