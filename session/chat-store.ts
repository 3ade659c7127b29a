import type { Chat } from '../runtime/context.ts'
import { tx } from './db.ts'
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

export interface ChatStoreOptions {
  now?: () => number
  /**
   * The id a chat is listed under, or null to leave it out: a person known by LID and by
   * phone number is one chat (listed by number), and our own account is not a chat.
   */
  canonical?: (jid: string) => string | null
}

/** Chats and contacts kept by us (Baileys 7 has no store), persisted so /get-chats survives restarts. */
export function createChatStore(db: Db, { now = Date.now, canonical = (jid) => jid }: ChatStoreOptions = {}): ChatStore {
  db.exec(SCHEMA)
  const put = db.prepare(`INSERT INTO chats (id, name, is_group, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET name = COALESCE(excluded.name, chats.name), updated_at = excluded.updated_at`)
  const all = db.prepare('SELECT id, name, is_group FROM chats').raw()
  // What the table holds, so that the sighting of a known chat (every incoming message is one)
  // costs no transaction: a synchronous fsync per message capped the vote rate (issue #7).
  const inTable = new Map<string, string | null>()
  for (const [id, name] of all.all() as [string, string | null, number][]) inTable.set(id, name)
  const upsertMany = (rows: Array<[string, string | null]>) => tx(db, () => {
    const t = now()
    for (const [id, name] of rows) put.run(id, name, id.endsWith('@g.us') ? 1 : 0, t)
  })
  // Cleared on every upsert; a mapping learned without one shows on the next one.
  let cache: Chat[] | null = null
  return {
    upsert(chats) {
      cache = null
      const rows = new Map<string, string | null>()
      for (const c of chats) {
        const id = isPollableJid(c.id) ? canonical(c.id) : null
        if (!id) continue
        const name = c.name?.trim() || null
        const known = rows.has(id) ? rows.get(id) : inTable.get(id)
        if ((rows.has(id) || inTable.has(id)) && (name === null || name === known)) continue
        rows.set(id, name ?? known ?? null)
      }
      if (!rows.size) return
      upsertMany([...rows])
      for (const [id, name] of rows) inTable.set(id, name)
    },
    list() {
      if (cache) return cache
      // Ids are mapped again on read: a LID stored before its phone number was known merges now.
      const byId = new Map<string, string | null>()
      for (const [stored, name] of all.all() as [string, string | null, number][]) {
        const id = canonical(stored)
        if (id && (!byId.has(id) || !byId.get(id))) byId.set(id, name)
      }
      const chats = [...byId].map(([id, name]) => ({ id, name: name || `+${numberOf(id)}`, isGroup: id.endsWith('@g.us') }))
      chats.sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id))
      return (cache = chats)
    },
    clear() {
      db.exec('DELETE FROM chats')
      inTable.clear()
      cache = null
    },
  }
}
