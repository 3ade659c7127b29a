import type { AuthenticationCreds, SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys'
import { userOf } from '../../contract/jid.ts'
import { decodeAuthValue, decodeLidMapping, encodeAuthValue, loadAuthCodec, reviveKey } from '../codec.ts'
import type { AuthState, KeyRow } from '../ports.ts'
import { createKeyStaging, keyRows, lidPairsIn } from '../key-staging.ts'
import { arrays, tx, type Pool, type Queryable } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWriteAsync } from '../write-health.ts'



type Pair = { lid: string; pn: string }

/** Writes Signal-key rows of one account on the caller's connection, inside its transaction (the journal's, or the auth state's own). */
export function pgKeyWriter(schema: string, account: string): (c: Queryable, rows: KeyRow[]) => Promise<void> {
  const K = `"${schema}".auth_keys`
  return async (c, rows) => {
    const put: [string[], string[], string[]] = [[], [], []]
    const del: [string[], string[]] = [[], []]
    for (const { type, id, json } of rows) {
      if (json === null) { del[0].push(type); del[1].push(id) } else { put[0].push(type); put[1].push(id); put[2].push(json) }
    }
    if (put[0].length) {
      await c.query(`INSERT INTO ${K} (account, type, id, json) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
        ON CONFLICT (account, type, id) DO UPDATE SET json = excluded.json`, [account, ...put])
    }
    if (del[0].length) {
      await c.query(`DELETE FROM ${K} k USING unnest($2::text[], $3::text[]) AS d(type, id)
        WHERE k.account = $1 AND k.type = d.type AND k.id = d.id`, [account, ...del])
    }
  }
}

/**
 * Baileys' auth state of one account in PostgreSQL: creds as one row, each Signal key as a row
 * (the layout and key formats of store/sqlite/auth.ts: lid-mapping `<pnUser>` → lidUser and
 * `<lidUser>_reverse` → pnUser, JSON through BufferJSON). A keys.set is one transaction; the
 * LID↔PN listeners hear of new pairs only after it committed.
 */
export function createPgAuth(pool: Pool, schema: string, account: string, health: WriteReporter): AuthState {
  const CR = `"${schema}".auth_creds`
  const K = `"${schema}".auth_keys`

  const revive = reviveKey
  const readKey = async (type: string, id: string): Promise<unknown> => {
    const held = staging.peek(type, id)
    if (held) return held.json === null ? undefined : revive(type, held.json)
    const [row] = await arrays<[string]>(pool, `SELECT json FROM ${K} WHERE account = $1 AND type = $2 AND id = $3`, [account, type, id])
    return row === undefined ? undefined : revive(type, row[0])
  }

  // Baileys retries a failed key commit (and holds the message meanwhile): the failure is
  // reported for /health, then thrown for Baileys to see.
  const written = <T>(what: string, fn: () => Promise<T>): Promise<T> => reportWriteAsync(health, what, fn)

  const writeRows = pgKeyWriter(schema, account)
  const writeKeys = (rows: KeyRow[]): Promise<void> =>
    rows.length ? written('signal keys', () => tx(pool, (c) => writeRows(c, rows))) : Promise.resolve()

  const listeners = new Set<(pairs: Pair[]) => void>()
  /** Tells the listeners of LID↔PN pairs in rows that committed. */
  const learned = (rows: KeyRow[]) => {
    const pairs = listeners.size ? lidPairsIn(rows) : []
    if (pairs.length) for (const fn of listeners) fn(pairs)
  }
  const staging = createKeyStaging({ write: writeKeys, committed: learned })

  // Credentials are written in call order, and read only after every write already asked for.
  // Baileys' creds.update is not awaited (connection.ts), and on a pool two writes can commit in
  // either order, or after a read on another connection: a pairing's `me` saved just before the
  // restart it asks for would be missing from the reconnection's load (a fresh QR instead of the
  // login), and a save still on its way when the account logs out would bring the creds back.
  // SQLite writes them synchronously, so there the order is the call order anyway.
  let credsTail: Promise<unknown> = Promise.resolve()
  const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = credsTail.then(fn, fn)
    credsTail = run.catch(() => undefined)
    return run
  }

  return {
    async load() {
      const [row] = await inTurn(() => arrays<[string]>(pool, `SELECT json FROM ${CR} WHERE account = $1`, [account]))
      // Baileys, for the codecs: imported by the first load, before any credential or key is decoded (store/codec.ts).
      const { initAuthCreds } = await loadAuthCodec()
      const creds: AuthenticationCreds = row ? decodeAuthValue(row[0]) : initAuthCreds()
      return {
        creds,
        keys: {
          get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
            const out: { [id: string]: SignalDataTypeMap[T] } = {}
            const stored: string[] = []
            for (const id of ids) {
              const held = staging.peek(type, id)
              if (!held) stored.push(id)
              else if (held.json !== null) out[id] = revive(type, held.json) as SignalDataTypeMap[T]
            }
            if (!stored.length) return out
            const got = await arrays<[string, string]>(pool, `SELECT id, json FROM ${K} WHERE account = $1 AND type = $2 AND id = ANY ($3::text[])`,
              [account, type, stored])
            for (const [id, json] of got) out[id] = revive(type, json) as SignalDataTypeMap[T]
            return out
          },
          set: async (data: SignalDataSet) => {
            if (staging.stage(data)) return
            const rows = keyRows(data)
            staging.supersede(rows)
            await writeKeys(rows)
            learned(rows)
          },
          clear: async () => {
            staging.reset()
            await written('signal keys', () => pool.query(`DELETE FROM ${K} WHERE account = $1`, [account]))
          },
        },
      }
    },
    async saveCreds(creds) {
      // Encoded now: Baileys goes on changing the same object.
      const json = encodeAuthValue(creds)
      await inTurn(() => written('credentials', () => pool.query(`INSERT INTO ${CR} (account, json) VALUES ($1, $2)
        ON CONFLICT (account) DO UPDATE SET json = excluded.json`, [account, json])))
    },
    async clear() {
      staging.reset()
      await inTurn(() => written('credentials', () => tx(pool, async (c) => {
        await c.query(`DELETE FROM ${CR} WHERE account = $1`, [account])
        await c.query(`DELETE FROM ${K} WHERE account = $1`, [account])
      })))
    },
    async getLIDForPN(pn) {
      const lid = await readKey('lid-mapping', userOf(pn))
      return typeof lid === 'string' ? `${lid}@lid` : null
    },
    async getPNForLID(lid) {
      const pn = await readKey('lid-mapping', `${userOf(lid)}_reverse`)
      return typeof pn === 'string' ? `${pn}@s.whatsapp.net` : null
    },
    async lidPairs() {
      const got = await arrays<[string, string]>(pool, `SELECT id, json FROM ${K}
        WHERE account = $1 AND type = 'lid-mapping' AND id NOT LIKE '%\\_reverse' ESCAPE '\\'`, [account])
      return got.flatMap(([pn, json]) => {
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
