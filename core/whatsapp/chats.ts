import type { Logger } from 'pino'
import type { Chat } from '../../contract/account.ts'
import type { ChatTable } from '../../store/ports.ts'
import { userOf } from '../identity.ts'

export interface ChatSighting { id: string; name?: string | null }

/** Only chats the GUI can send a poll to: people and groups, not broadcasts, newsletters or status. */
export function isPollableJid(jid: string): boolean {
  return /^[0-9]+(-[0-9]+)?@g\.us$/.test(jid) || /^[0-9]+@s\.whatsapp\.net$/.test(jid) || /^[0-9]+@lid$/.test(jid)
}

/**
 * The chat list of one account (Baileys 7 keeps none): every sighting of a chat or contact,
 * kept in the store so GET /get-chats survives restarts, and in memory, so that the sighting
 * of a known chat (every incoming message is one) costs no write: a synchronous fsync per
 * message capped the vote rate (issue #7).
 */
export function createChatList(deps: {
  table: ChatTable
  /** the id a chat is listed under, or null to leave it out (identity.chatId) */
  chatId: (jid: string) => string | null
  log: Logger
}) {
  const { table, chatId, log } = deps
  const known = new Map<string, string | null>()
  // Dropped on every change; a mapping learned without one shows on the next one.
  let cache: Chat[] | null = null
  // Writes go out in order; a failed one is reported by the store and the chat comes again.
  let writing: Promise<void> = Promise.resolve()

  return {
    /** the table's chats, before the first connection */
    async load(): Promise<void> {
      for (const { id, name } of await table.all()) known.set(id, name)
    },
    /** Adds or renames chats; a missing name never erases a known one. */
    see(sightings: ChatSighting[]): void {
      const rows = new Map<string, string | null>()
      for (const c of sightings) {
        const id = isPollableJid(c.id) ? chatId(c.id) : null
        if (!id) continue
        const name = c.name?.trim() || null
        const had = rows.has(id) ? rows.get(id) : known.get(id)
        if ((rows.has(id) || known.has(id)) && (name === null || name === had)) continue
        rows.set(id, name ?? had ?? null)
      }
      if (!rows.size) return
      cache = null
      for (const [id, name] of rows) known.set(id, name)
      const list = [...rows].map(([id, name]) => ({ id, name }))
      writing = writing.then(() => table.upsert(list)).catch((err) => log.warn({ err }, 'chats not saved'))
    },
    /** what a chat is called, as list() shows it */
    name(id: string): string {
      return known.get(id) || `+${userOf(id)}`
    },
    list(): Chat[] {
      if (cache) return cache
      // Ids are mapped again on read: a LID kept before its phone number was known merges now.
      const byId = new Map<string, string | null>()
      for (const [kept, name] of known) {
        const id = chatId(kept)
        if (id && (!byId.has(id) || !byId.get(id))) byId.set(id, name)
      }
      const chats = [...byId].map(([id, name]) => ({ id, name: name || `+${userOf(id)}`, isGroup: id.endsWith('@g.us') }))
      chats.sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id))
      return (cache = chats)
    },
    /** a logout: the chats belonged to the old account */
    async clear(): Promise<void> {
      known.clear()
      cache = null
      await writing
      await table.clear()
    },
  }
}

export type ChatList = ReturnType<typeof createChatList>
