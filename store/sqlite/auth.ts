import type { AuthenticationCreds, SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys'
import { userOf } from '../../contract/jid.ts'
import { decodeAuthValue, decodeLidMapping, encodeAuthValue, loadAuthCodec, reviveKey } from '../codec.ts'
import type { AuthState, KeyRow } from '../ports.ts'
import { createKeyStaging, keyRows, lidPairsIn } from '../key-staging.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWrite } from '../write-health.ts'

/** Writes Signal-key rows of one account inside the caller's transaction (the journal's, or the auth state's own). */
export function sqliteKeyWriter(db: Db, account: string): (rows: KeyRow[]) => void {
  const putKey = db.prepare('INSERT INTO auth_keys (account, type, id, json) VALUES (?, ?, ?, ?) ON CONFLICT(account, type, id) DO UPDATE SET json = excluded.json')
  const delKey = db.prepare('DELETE FROM auth_keys WHERE account = ? AND type = ? AND id = ?')
  return (rows) => {
    for (const { type, id, json } of rows) {
      if (json === null) delKey.run(account, type, id)
      else putKey.run(account, type, id, json)
    }
  }
}

/** Baileys' auth state in SQLite: creds as one row, each Signal key as a row, writes in transactions. */
export function createSqliteAuth(db: Db, account: string, health: WriteReporter): AuthState {
  const getCreds = db.prepare('SELECT json FROM auth_creds WHERE account = ?').raw()
  const putCreds = db.prepare('INSERT INTO auth_creds (account, json) VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET json = excluded.json')
  const getKey = db.prepare('SELECT json FROM auth_keys WHERE account = ? AND type = ? AND id = ?').raw()
  const writeRows = sqliteKeyWriter(db, account)

  const readKey = (type: string, id: string): unknown => {
    const held = staging.peek(type, id)
    const text = held ? held.json : (getKey.get(account, type, id) as [string] | undefined)?.[0]
    return text === undefined || text === null ? undefined : reviveKey(type, text)
  }

  // Baileys retries a failed key commit (and holds the message meanwhile): the failure is
  // reported for /health, then thrown for Baileys to see.
  const written = <T>(what: string, fn: () => T): T => reportWrite(health, what, fn)
  const writeKeys = (rows: KeyRow[]) => written('signal keys', () => tx(db, () => writeRows(rows)))

  const pairs = db.prepare(`SELECT id, json FROM auth_keys WHERE account = ? AND type = 'lid-mapping' AND id NOT LIKE '%\\_reverse' ESCAPE '\\'`).raw()
  const listeners = new Set<(pairs: Array<{ lid: string; pn: string }>) => void>()
  /** Tells the listeners of LID↔PN pairs in rows that committed. */
  const learned = (rows: KeyRow[]) => {
    const pairs = listeners.size ? lidPairsIn(rows) : []
    if (pairs.length) for (const fn of listeners) fn(pairs)
  }
  const staging = createKeyStaging({ write: async (rows) => writeKeys(rows), committed: learned })

  const pnForLid = (lid: string): string | null => {
    const pn = readKey('lid-mapping', `${userOf(lid)}_reverse`)
    return typeof pn === 'string' ? `${pn}@s.whatsapp.net` : null
  }

  const clear = () => written('credentials', () => tx(db, () => {
    staging.reset()
    db.prepare('DELETE FROM auth_creds WHERE account = ?').run(account)
    db.prepare('DELETE FROM auth_keys WHERE account = ?').run(account)
  }))

  return {
    async load() {
      const text = (getCreds.get(account) as [string] | undefined)?.[0]
      // Baileys, for the codecs: imported by the first load, before any credential or key is decoded (store/codec.ts).
      const { initAuthCreds } = await loadAuthCodec()
      const creds: AuthenticationCreds = text ? decodeAuthValue(text) : initAuthCreds()
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
            if (staging.stage(data)) return
            const rows = keyRows(data)
            staging.supersede(rows)
            writeKeys(rows)
            learned(rows)
          },
          clear: async () => {
            staging.reset()
            written('signal keys', () => db.prepare('DELETE FROM auth_keys WHERE account = ?').run(account))
          },
        },
      }
    },
    async saveCreds(creds) { written('credentials', () => putCreds.run(account, encodeAuthValue(creds))) },
    async clear() { clear() },
    async getLIDForPN(pn) {
      const lid = readKey('lid-mapping', userOf(pn))
      return typeof lid === 'string' ? `${lid}@lid` : null
    },
    async getPNForLID(lid) { return pnForLid(lid) },
    async lidPairs() {
      return (pairs.all(account) as Array<[string, string]>).flatMap(([pn, json]) => {
        const lid = decodeLidMapping(json)
        return typeof lid === 'string' ? [{ pn: `${pn}@s.whatsapp.net`, lid: `${lid}@lid` }] : []
      })
    },
    onLidMapping(fn) {
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    },
    holdKeys: () => staging.hold(),
    resetHeldKeys: () => staging.reset(),
  }
}
