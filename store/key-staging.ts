import { AsyncLocalStorage } from 'node:async_hooks'
import type { SignalDataSet } from '@whiskeysockets/baileys'
import { encodeAuthValue } from './codec.ts'
import type { AlongsideWrites, KeyRow } from './ports.ts'

/** The Signal-key writes of one deferred piece of work (one incoming message's decryption). */
interface Scope { readonly id: number }
interface Entry { row: KeyRow; scope: Scope }

/**
 * Signal-key writes held back until the vote they came with commits, so the two are one
 * transaction (one fsync) instead of two in a row under Baileys' message lock.
 *
 * Inside `defer(work)`, a key write is staged (encoded, as the store would write it) and every
 * read of that key sees the staged value. The vote's journal commit takes the scope's staged
 * rows through `alongside()` and writes them in its own transaction; whatever is still staged
 * when `work` ends (a message that was not a vote, or a batch that ran before the keys were
 * staged) is written then, after the vote. Keys therefore never commit before the vote: a crash
 * in between leaves the old ratchet state, and the message WhatsApp redelivers still decrypts.
 * When `work` fails, its staged rows are dropped: nothing it did is kept, as before.
 *
 * One per account's auth state; it owns the staged rows and nothing else.
 */
export function createKeyStaging(deps: {
  /** writes rows in one transaction of the store's own */
  write(rows: KeyRow[]): Promise<void>
  /** after rows committed (by either path): LID↔PN listeners and the like */
  committed?(rows: KeyRow[]): void
}) {
  const als = new AsyncLocalStorage<Scope>()
  const staged = new Map<string, Entry>()
  const keyOf = (type: string, id: string) => `${type}\u0000${id}`
  let scopes = 0

  /** The staged entries of a scope, still held. */
  const entriesOf = (scope: Scope): Entry[] => {
    const out: Entry[] = []
    for (const e of staged.values()) if (e.scope === scope) out.push(e)
    return out
  }
  /** Committed: forget each entry unless a later write replaced it meanwhile. */
  const settle = (entries: Entry[]): void => {
    for (const e of entries) {
      const k = keyOf(e.row.type, e.row.id)
      if (staged.get(k) === e) staged.delete(k)
    }
    if (entries.length) deps.committed?.(entries.map((e) => e.row))
  }

  return {
    /** Runs `work` with key writes staged; writes what is left after it, drops it all if it fails. */
    async defer<T>(work: () => Promise<T>): Promise<T> {
      const scope: Scope = { id: ++scopes }
      try {
        const out = await als.run(scope, work)
        const left = entriesOf(scope)
        if (left.length) {
          await deps.write(left.map((e) => e.row))
          settle(left)
        }
        return out
      } catch (err) {
        for (const e of entriesOf(scope)) staged.delete(keyOf(e.row.type, e.row.id))
        throw err
      }
    },
    /** Stages `data` when called inside `defer`; false outside, where the caller writes at once. */
    stage(data: SignalDataSet): boolean {
      const scope = als.getStore()
      if (!scope) return false
      for (const row of keyRows(data)) staged.set(keyOf(row.type, row.id), { row, scope })
      return true
    },
    /** A write made at once supersedes anything staged for the same keys. */
    supersede(rows: KeyRow[]): void {
      if (staged.size) for (const r of rows) staged.delete(keyOf(r.type, r.id))
    },
    /** The staged value of a key: undefined when nothing is staged, else its row (json null: deleted). */
    peek(type: string, id: string): KeyRow | undefined {
      return staged.size ? staged.get(keyOf(type, id))?.row : undefined
    },
    /** The current scope's staged rows, for the transaction that journals its vote (undefined outside `defer`). */
    alongside(): AlongsideWrites | undefined {
      const scope = als.getStore()
      if (!scope) return undefined
      let taken: Entry[] = []
      return {
        take() {
          taken = entriesOf(scope)
          return taken.map((e) => e.row)
        },
        settled(ok) {
          if (ok) settle(taken)
          taken = []
        },
      }
    },
    /** everything staged is void (credentials cleared) */
    clear(): void {
      staged.clear()
    },
  }
}

export type KeyStaging = ReturnType<typeof createKeyStaging>

/** Baileys' key set as rows, encoded as stored; null or undefined deletes. */
export function keyRows(data: SignalDataSet): KeyRow[] {
  const rows: KeyRow[] = []
  for (const [type, entries] of Object.entries(data)) {
    for (const [id, value] of Object.entries(entries ?? {})) {
      rows.push({ type, id, json: value === null || value === undefined ? null : encodeAuthValue(value) })
    }
  }
  return rows
}
