import type { Chat } from '../runtime/context.ts'
import type { Db } from './db.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chats (
  id TEXT PRIMARY KEY,
  name TEXT,
  is_group INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);`

export interface ChatUpsert { id: string; name?: string | null }

export interface ChatStore {
  /** Adds or renames chats; a missing name never erases a known one. */
  upsert(chats: ChatUpsert[]): void
  list(): Chat[]
  clear(): void
}

/** Only chats the GUI can send a poll to: people and groups, not broadcasts, newsletters or status. */
export function isPollableJid(jid: string): boolean {
  return /^[0-9]+(-[0-9]+)?@g\.us$/.test(jid) || /^[0-9]+@s\.whatsapp\.net$/.test(jid) || /^[0-9]+@lid$/.test(jid)
}

const numberOf = (jid: string) => jid.split('@')[0]!

/** Chats and contacts kept by us (Baileys 7 has no store), persisted so /get-chats survives restarts. */
export function createChatStore(db: Db, now: () => number = Date.now): ChatStore {
  db.exec(SCHEMA)
  const put = db.prepare(`INSERT INTO chats (id, name, is_group, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET name = COALESCE(excluded.name, chats.name), updated_at = excluded.updated_at`)
  const all = db.prepare('SELECT id, name, is_group FROM chats').raw()
  const upsertMany = db.transaction((chats: ChatUpsert[]) => {
    const t = now()
    for (const c of chats) {
      if (!isPollableJid(c.id)) continue
      const name = c.name?.trim() || null
      put.run(c.id, name, c.id.endsWith('@g.us') ? 1 : 0, t)
    }
  })
  let cache: Chat[] | null = null
  return {
    upsert(chats) {
      if (!chats.length) return
      upsertMany.immediate(chats)
      cache = null
    },
    list() {
      if (cache) return cache
      const rows = all.all() as [string, string | null, number][]
      const chats = rows.map(([id, name, g]) => ({ id, name: name || `+${numberOf(id)}`, isGroup: g === 1 }))
      chats.sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id))
      return (cache = chats)
    },
    clear() {
      db.exec('DELETE FROM chats')
      cache = null
    },
  }
}
