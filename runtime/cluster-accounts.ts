import { AccountError, type AccountsAdmin } from '../contract/account.ts'
import type { AccountPool } from './accounts.ts'
import { CLUSTER_HEADER, type Coordinator } from './cluster.ts'

/**
 * The /accounts routes with several processes: adding registers the account for every process
 * (the first to take its lock links it); removing is the owner's work (it unlinks the device and
 * deletes the credentials), so elsewhere it is forwarded there.
 */
export function clusterAccounts(pool: AccountPool, c: Coordinator): AccountsAdmin {
  return {
    list: () => pool.list(),
    async add(id) {
      const added = await pool.add(id)
      if (added) await c.accountsChanged(id)
      return added
    },
    async remove(id, purge) {
      if (c.owns(id) || !pool.get(id)) {
        const removed = await pool.remove(id, purge)
        if (removed) await c.accountsChanged(id)
        return removed
      }
      const url = c.ownerUrl(id)
      if (!url) throw new AccountError('not_connected', `account ${id} has no owner process right now (a takeover is under way); try again in a few seconds`)
      const res = await fetch(`${url}/accounts/${encodeURIComponent(id)}${purge ? '?purge=true' : ''}`, {
        method: 'DELETE', headers: { [CLUSTER_HEADER]: c.secret }, signal: AbortSignal.timeout(30_000),
      })
      if (res.status === 404) return false
      if (!res.ok) throw new AccountError('rejected', `the process owning account ${id} could not remove it`, await res.text())
      return true
    },
  }
}
