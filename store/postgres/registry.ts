import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { Store } from '../ports.ts'
import { arrays, tx, type Pool, type PoolClient } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWriteAsync } from '../write-health.ts'

/** Tables whose rows of an account go when it is removed, and those that go only when it is purged. */
const CREDENTIALS = ['auth_creds', 'auth_keys', 'chats']
const HISTORY = ['poll_record', 'vote_journal', 'vote_person', 'campaign', 'campaign_chat']

/**
 * The account registry (the `account` table, schema.ts migration 2) and the removal of an
 * account's rows; `beforePurge` runs in the purge's transaction before anything is deleted.
 */
export function createPgRegistry(pool: Pool, schema: string, health: WriteReporter, now: () => number = Date.now,
  beforePurge?: (client: PoolClient, account: string) => Promise<void>): Pick<Store, 'accounts' | 'addAccount' | 'removeAccount'> {
  const A = `"${schema}".account`
  const written = <T>(what: string, fn: () => Promise<T>): Promise<T> => reportWriteAsync(health, what, fn)
  return {
    async accounts() {
      return (await arrays<[string]>(pool, `SELECT id FROM ${A} ORDER BY id = 'default' DESC, created_at, pos`, [])).map(([id]) => id)
    },
    async addAccount(id) {
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      return written('accounts', async () =>
        ((await pool.query(`INSERT INTO ${A} (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [id, now()])).rowCount ?? 0) > 0)
    },
    async removeAccount(id, purge) {
      if (id === 'default') throw new Error('the default account cannot be removed')
      return written('accounts', () => tx(pool, async (c) => {
        if (purge) await beforePurge?.(c, id)
        const removed = ((await c.query(`DELETE FROM ${A} WHERE id = $1`, [id])).rowCount ?? 0) > 0
        for (const t of purge ? [...CREDENTIALS, ...HISTORY] : CREDENTIALS) await c.query(`DELETE FROM "${schema}".${t} WHERE account = $1`, [id])
        return removed
      }))
    },
  }
}
