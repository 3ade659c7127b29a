import type { ChatRow, ChatTable } from '../ports.ts'
import { arrays, type Pool } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWriteAsync } from '../write-health.ts'

/** The chats and contacts of one account in PostgreSQL; an upsert of many rows is one statement. */
export function createPgChats(pool: Pool, schema: string, account: string, health: WriteReporter, now: () => number = Date.now): ChatTable {
  const C = `"${schema}".chats`
  const written = async (what: string, fn: () => Promise<unknown>) => { await reportWriteAsync(health, what, fn) }
  return {
    async all() {
      return (await arrays<[string, string | null]>(pool, `SELECT id, name FROM ${C} WHERE account = $1`, [account])).map(([id, name]) => ({ id, name }))
    },
    async upsert(list: ChatRow[]) {
      if (!list.length) return
      // One row per id (ON CONFLICT cannot touch a row twice in one statement): later names win,
      // a null name never erases a known one, as row-by-row upserts would leave it.
      const merged = new Map<string, string | null>()
      for (const { id, name } of list) merged.set(id, name ?? merged.get(id) ?? null)
      const ids = [...merged.keys()]
      await written('chats', () => pool.query(`INSERT INTO ${C} (account, id, name, is_group, updated_at)
        SELECT $1, id, name, id LIKE '%@g.us', $4 FROM unnest($2::text[], $3::text[]) AS x(id, name)
        ON CONFLICT (account, id) DO UPDATE SET name = coalesce(excluded.name, ${C}.name), updated_at = excluded.updated_at`,
      [account, ids, ids.map((id) => merged.get(id)!), now()]))
    },
    async clear() {
      await written('chats', () => pool.query(`DELETE FROM ${C} WHERE account = $1`, [account]))
    },
  }
}
