import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { Store } from '../ports.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWrite } from '../write-health.ts'

/** Tables whose rows of an account go when it is removed, and those that go only when it is purged. */
const CREDENTIALS = ['auth_creds', 'auth_keys', 'chats']
const HISTORY = ['poll_record', 'vote_journal', 'vote_person', 'campaign', 'campaign_chat']

/** The account registry (the `account` table, schema.ts) and the removal of an account's rows. */
export function createSqliteRegistry(db: Db, health: WriteReporter, now: () => number = Date.now): Pick<Store, 'accounts' | 'addAccount' | 'removeAccount'> {
  const list = db.prepare(`SELECT id FROM account ORDER BY id = 'default' DESC, created_at, rowid`).raw()
  const insert = db.prepare('INSERT OR IGNORE INTO account (id, created_at) VALUES (?, ?)')
  const remove = db.prepare('DELETE FROM account WHERE id = ?')
  const deletes = (tables: string[]) => tables.map((t) => db.prepare(`DELETE FROM ${t} WHERE account = ?`))
  const credentials = deletes(CREDENTIALS)
  const history = deletes(HISTORY)
  const written = <T>(what: string, fn: () => T): T => reportWrite(health, what, fn)
  return {
    async accounts() {
      return (list.all() as Array<[string]>).map(([id]) => id)
    },
    async addAccount(id) {
      if (!ACCOUNT_ID.test(id)) throw new Error(`invalid account id "${id}"`)
      return written('accounts', () => insert.run(id, now()).changes > 0)
    },
    async removeAccount(id, purge) {
      if (id === 'default') throw new Error('the default account cannot be removed')
      return written('accounts', () => tx(db, () => {
        const removed = remove.run(id).changes > 0
        for (const st of purge ? [...credentials, ...history] : credentials) st.run(id)
        return removed
      }))
    },
  }
}
