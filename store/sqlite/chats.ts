import type { ChatRow, ChatTable } from '../ports.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWrite } from '../write-health.ts'


/** The chats and contacts of one account in SQLite. */
export function createSqliteChats(db: Db, account: string, health: WriteReporter, now: () => number = Date.now): ChatTable {
  const put = db.prepare(`INSERT INTO chats (account, id, name, is_group, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(account, id) DO UPDATE SET name = COALESCE(excluded.name, chats.name), updated_at = excluded.updated_at`)
  const all = db.prepare('SELECT id, name FROM chats WHERE account = ?').raw()
  const written = (what: string, fn: () => void) => reportWrite(health, what, fn)
  return {
    async all() {
      return (all.all(account) as Array<[string, string | null]>).map(([id, name]) => ({ id, name }))
    },
    async upsert(rows: ChatRow[]) {
      if (!rows.length) return
      written('chats', () => tx(db, () => {
        const t = now()
        for (const { id, name } of rows) put.run(account, id, name, id.endsWith('@g.us') ? 1 : 0, t)
      }))
    },
    async clear() {
      written('chats', () => db.prepare('DELETE FROM chats WHERE account = ?').run(account))
    },
  }
}
