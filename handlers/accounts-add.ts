import { HttpError, json, type Handler } from '../contract/http.ts'
import { ACCOUNT_ID } from '../contract/limits.ts'
import { accountsOf } from './lib/accounts.ts'
import { readJsonObject } from './lib/http.ts'

/** POST /accounts — `{ id }` creates an account and starts its pairing (its QR: GET /accounts/:id/status). */
export const accountsAdd: Handler = async (req, ctx) => {
  const accounts = accountsOf(ctx)
  const { id } = await readJsonObject(req)
  if (typeof id !== 'string' || !ACCOUNT_ID.test(id)) {
    throw new HttpError(400, 'id must be 1 to 32 characters, each a-z, 0-9, _ or -')
  }
  const account = await accounts.add(id)
  if (!account) throw new HttpError(409, `account ${id} already exists`)
  ctx.log.info({ account: id }, 'account added')
  return json(201, { success: true, message: `account ${id} created; link it with the QR of GET /accounts/${id}/status`, account })
}
