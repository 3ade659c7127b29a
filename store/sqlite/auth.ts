import { BufferJSON, initAuthCreds, proto } from '@whiskeysockets/baileys'
import type { AuthenticationCreds, SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys'
import { userOf } from '../../contract/jid.ts'
import type { AuthState } from '../ports.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'


const encode = (value: unknown) => JSON.stringify(value, BufferJSON.replacer)
const decode = (text: string) => JSON.parse(text, BufferJSON.reviver)

/**
 * Baileys rc14 stores a sender-key record as the bytes of plain `JSON.stringify` (a Buffer
 * becomes `{ type: 'Buffer', data: [numbers] }`) but reads it with `BufferJSON.reviver`, which
 * revives only base64 data. A skipped group message key then comes back as an object, and every
 * group message that arrives after a later one from the same sender fails to decrypt ("Expected
 * Buffer instead of: Object"), costing a retry round trip through the sender's phone. Handing the
 * record out in the form the reviver reads fixes that, for records already stored too.
 */
function revivableSenderKey(value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value
  const text = Buffer.from(value).toString('utf-8')
  if (!text.includes('"data":[')) return value
  try {
    return Buffer.from(JSON.stringify(JSON.parse(text), BufferJSON.replacer), 'utf-8')
  } catch {
    return value
  }
}

/** Baileys' auth state in SQLite: creds as one row, each Signal key as a row, writes in transactions. */
export function createSqliteAuth(db: Db, account: string, health: WriteReporter): AuthState {
  const getCreds = db.prepare('SELECT json FROM auth_creds WHERE account = ?').raw()
  const putCreds = db.prepare('INSERT INTO auth_creds (account, json) VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET json = excluded.json')
  const getKey = db.prepare('SELECT json FROM auth_keys WHERE account = ? AND type = ? AND id = ?').raw()
  const putKey = db.prepare('INSERT INTO auth_keys (account, type, id, json) VALUES (?, ?, ?, ?) ON CONFLICT(account, type, id) DO UPDATE SET json = excluded.json')
  const delKey = db.prepare('DELETE FROM auth_keys WHERE account = ? AND type = ? AND id = ?')

  const readKey = (type: string, id: string): unknown => {
    const text = (getKey.get(account, type, id) as [string] | undefined)?.[0]
    if (text === undefined) return undefined
    const value = decode(text)
    if (type === 'sender-key') return revivableSenderKey(value)
    return type === 'app-state-sync-key' ? proto.Message.AppStateSyncKeyData.fromObject(value) : value
  }

  // Baileys retries a failed key commit (and holds the message meanwhile): the failure is
  // reported for /health, then thrown for Baileys to see.
  const written = <T>(what: string, fn: () => T): T => {
    try {
      const out = fn()
      health.committed()
      return out
    } catch (err) {
      health.failed(err, what)
      throw err
    }
  }
  const writeKeys = (data: SignalDataSet) => written('signal keys', () => tx(db, () => {
    for (const [type, entries] of Object.entries(data)) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        if (value === null || value === undefined) delKey.run(account, type, id)
        else putKey.run(account, type, id, encode(value))
      }
    }
  }))

  const pairs = db.prepare(`SELECT id, json FROM auth_keys WHERE account = ? AND type = 'lid-mapping' AND id NOT LIKE '%\\_reverse' ESCAPE '\\'`).raw()
  const listeners = new Set<(pairs: Array<{ lid: string; pn: string }>) => void>()

  const pnForLid = (lid: string): string | null => {
    const pn = readKey('lid-mapping', `${userOf(lid)}_reverse`)
    return typeof pn === 'string' ? `${pn}@s.whatsapp.net` : null
  }

  const clear = () => written('credentials', () => tx(db, () => {
    db.prepare('DELETE FROM auth_creds WHERE account = ?').run(account)
    db.prepare('DELETE FROM auth_keys WHERE account = ?').run(account)
  }))

  return {
    async load() {
      const text = (getCreds.get(account) as [string] | undefined)?.[0]
      const creds: AuthenticationCreds = text ? decode(text) : initAuthCreds()
      return {
        creds,
        keys: {
          get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
            const out: { [id: string]: SignalDataTypeMap[T] } = {}
            for (const id of ids) {
              const value = readKey(type, id)
              if (value !== undefined) out[id] = value as SignalDataTypeMap[T]
            }
            return out
          },
          set: async (data: SignalDataSet) => {
            writeKeys(data)
            const mappings = data['lid-mapping']
            if (mappings && listeners.size) {
              const learned = Object.entries(mappings).filter(([id, v]) => typeof v === 'string' && !id.endsWith('_reverse'))
                .map(([pn, lid]) => ({ pn: `${pn}@s.whatsapp.net`, lid: `${lid as string}@lid` }))
              if (learned.length) for (const fn of listeners) fn(learned)
            }
          },
          clear: async () => { written('signal keys', () => db.prepare('DELETE FROM auth_keys WHERE account = ?').run(account)) },
        },
      }
    },
    async saveCreds(creds) { written('credentials', () => putCreds.run(account, encode(creds))) },
    async clear() { clear() },
    async getLIDForPN(pn) {
      const lid = readKey('lid-mapping', userOf(pn))
      return typeof lid === 'string' ? `${lid}@lid` : null
    },
    async getPNForLID(lid) { return pnForLid(lid) },
    async lidPairs() {
      return (pairs.all(account) as Array<[string, string]>).flatMap(([pn, json]) => {
        const lid = decode(json)
        return typeof lid === 'string' ? [{ pn: `${pn}@s.whatsapp.net`, lid: `${lid}@lid` }] : []
      })
    },
    onLidMapping(fn) {
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    },
  }
}
