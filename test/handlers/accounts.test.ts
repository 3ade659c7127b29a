import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AccountsAdmin, AccountSummary } from '../../contract/account.ts'
import { accountsAdd } from '../../handlers/accounts-add.ts'
import { accountsList } from '../../handlers/accounts-list.ts'
import { accountsRemove } from '../../handlers/accounts-remove.ts'
import { createRouter } from '../../runtime/router.ts'
import { fakeCtx, get, invoke, post } from '../fakes.ts'

/** An AccountsAdmin that records its calls. */
function fakeAccounts(ids: string[] = ['default']) {
  const calls: string[] = []
  const summary = (id: string): AccountSummary => ({ id, status: 'qr_pending', user: null })
  const admin: AccountsAdmin = {
    list: () => ids.map(summary),
    async add(id) { calls.push(`add ${id}`); if (ids.includes(id)) return null; ids.push(id); return summary(id) },
    async remove(id, purge) { calls.push(`remove ${id} ${purge}`); const i = ids.indexOf(id); if (i < 0) return false; ids.splice(i, 1); return true },
  }
  return { admin, calls, ids }
}
/** DELETE behind the real router (invoke() routes a parameter pattern as GET only). */
async function deleting(ctx: ReturnType<typeof fakeCtx>, path: string) {
  const res = await createRouter([{ method: 'DELETE', path: '/accounts/:id', handler: accountsRemove }], ctx)(
    new Request(`http://localhost${path}`, { method: 'DELETE' }))
  return { status: res.status, body: await res.json() as any }
}

const list = suite('GET /accounts')
list('lists every account with its status and user', async () => {
  const { admin } = fakeAccounts(['default', 'shop'])
  const res = await invoke(accountsList, get('/accounts'), fakeCtx({ accounts: admin }))
  assert.equal(res.body, { success: true, accounts: [
    { id: 'default', status: 'qr_pending', user: null }, { id: 'shop', status: 'qr_pending', user: null },
  ] })
})
list('404 where the runtime serves one account only', async () => {
  const res = await invoke(accountsList, get('/accounts'), fakeCtx())
  assert.is(res.status, 404)
  assert.is(res.body.success, false)
})
list.run()

const add = suite('POST /accounts')
add('creates one: 201 with the account', async () => {
  const { admin, calls } = fakeAccounts()
  const res = await invoke(accountsAdd, post('/accounts', { id: 'shop_2-b' }), fakeCtx({ accounts: admin }))
  assert.is(res.status, 201)
  assert.equal(res.body.account, { id: 'shop_2-b', status: 'qr_pending', user: null })
  assert.equal(calls, ['add shop_2-b'])
})
add('400 naming the field for a bad id; 409 for a taken one', async () => {
  const { admin, calls } = fakeAccounts(['default', 'shop'])
  for (const body of [{}, { id: '' }, { id: 'Shop' }, { id: 'a b' }, { id: 'é' }, { id: 'x'.repeat(33) }, { id: 1 }, { id: null }]) {
    const res = await invoke(accountsAdd, post('/accounts', body), fakeCtx({ accounts: admin }))
    assert.is(res.status, 400, JSON.stringify(body))
    assert.match(res.body.message, /^id must be/)
  }
  assert.equal(calls, [])
  const taken = await invoke(accountsAdd, post('/accounts', { id: 'shop' }), fakeCtx({ accounts: admin }))
  assert.is(taken.status, 409)
  assert.match(taken.body.message, /shop already exists/)
})
add.run()

const drop = suite('DELETE /accounts/:id')
drop('logs out and deletes; ?purge=true deletes polls and votes too', async () => {
  const { admin, calls } = fakeAccounts(['default', 'a', 'b'])
  assert.is((await deleting(fakeCtx({ accounts: admin }), '/accounts/a')).status, 200)
  const purged = await deleting(fakeCtx({ accounts: admin }), '/accounts/b?purge=true')
  assert.is(purged.status, 200)
  assert.match(purged.body.message, /with its polls and votes/)
  assert.equal(calls, ['remove a false', 'remove b true'])
})
drop('default cannot be deleted (409), an unknown id is 404, a bad purge 400', async () => {
  const { admin, calls } = fakeAccounts(['default'])
  const dflt = await deleting(fakeCtx({ accounts: admin }), '/accounts/default')
  assert.is(dflt.status, 409)
  assert.match(dflt.body.message, /POST \/logout/)
  assert.is((await deleting(fakeCtx({ accounts: admin }), '/accounts/nope')).status, 404)
  assert.is((await deleting(fakeCtx({ accounts: admin }), '/accounts/nope?purge=yes')).status, 400)
  assert.equal(calls, ['remove nope false'])
})
drop.run()
