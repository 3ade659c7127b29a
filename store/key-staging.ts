import { AsyncLocalStorage } from 'node:async_hooks'
import type { SignalDataSet } from '@whiskeysockets/baileys'
import { decodeAuthValue, encodeAuthValue } from './codec.ts'
import type { AlongsideWrites, KeyHold, KeyRow } from './ports.ts'

/** The Signal-key writes of one held piece of work (one incoming message's decryption). */
interface Scope { readonly epoch: number; readonly keys: Set<string>; taken: Entry[] }
interface Entry { row: KeyRow; scope: Scope }

/**
 * Signal-key writes held back until the vote they came with commits, so the two are one
 * transaction (one fsync) instead of two in a row under Baileys' message lock.
 *
 * Inside a hold's `run`, a key write is staged (encoded, as the store would write it) and every
 * read of that key sees the staged value. The vote's journal commit takes the hold's staged
 * rows through `alongside()` and writes them in its own transaction; whatever is still staged
 * at `finish` (a message that was not a vote, or a batch that ran before the keys were staged)
 * is written then, after the vote. Keys therefore never commit before the vote: a crash in
 * between leaves the old ratchet state, and the message WhatsApp redelivers still decrypts.
 * `drop` forgets a hold's staged rows (its vote was not journaled).
 *
 * `reset` (the connection gave up after a failed write) forgets everything staged and makes
 * every hold opened before it write nothing more: a later message's keys may have been built on
 * the dropped ones, and committed they would skip the message WhatsApp is about to redeliver.
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
  let epoch = 0

  /** The staged entries of a scope, still held (none once a reset voided it). */
  const entriesOf = (scope: Scope): Entry[] => {
    const out: Entry[] = []
    if (scope.epoch !== epoch) return out
    for (const k of scope.keys) {
      const e = staged.get(k)
      if (e?.scope === scope) out.push(e)
    }
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
  /**
   * A scope's staged rows as the journal takes them: read when its transaction is written. They
   * committed if and only if the vote did (one transaction): `finish` forgets them then.
   */
  const alongsideOf = (scope: Scope): AlongsideWrites => ({
    take() {
      scope.taken = entriesOf(scope)
      return scope.taken.map((e) => e.row)
    },
  })
  const drop = (scope: Scope): void => {
    for (const e of entriesOf(scope)) staged.delete(keyOf(e.row.type, e.row.id))
  }

  function hold(): KeyHold {
    const scope: Scope = { epoch, keys: new Set(), taken: [] }
    return {
      run: (work) => als.run(scope, work),
      alongside: () => alongsideOf(scope),
      held: () => entriesOf(scope).some((e) => !scope.taken.includes(e)),
      async finish() {
        // What the vote's transaction carried is committed; what it did not is written now.
        if (scope.epoch === epoch) settle(scope.taken)
        scope.taken = []
        const left = entriesOf(scope)
        if (!left.length) return
        await deps.write(left.map((e) => e.row))
        settle(left)
      },
      drop: () => drop(scope),
    }
  }

  return {
    hold,
    /** Stages `data` when called inside a hold's `run`; false outside, where the caller writes at once. */
    stage(data: SignalDataSet): boolean {
      const scope = als.getStore()
      if (!scope) return false
      // A hold voided by a reset writes nothing more; its reads do not matter (its connection is gone).
      if (scope.epoch !== epoch) return true
      for (const row of keyRows(data)) {
        const k = keyOf(row.type, row.id)
        staged.set(k, { row, scope })
        scope.keys.add(k)
      }
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
    /** Everything staged is void, and every hold opened so far writes nothing more. */
    reset(): void {
      staged.clear()
      epoch++
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

/** The LID↔PN pairs (JIDs) that key rows store: lid-mapping `<pnUser>` → lidUser (the `_reverse` rows mirror them). */
export function lidPairsIn(rows: KeyRow[]): Array<{ lid: string; pn: string }> {
  return rows.filter((r) => r.type === 'lid-mapping' && r.json !== null && !r.id.endsWith('_reverse')).flatMap((r) => {
    const lid = decodeAuthValue(r.json!)
    return typeof lid === 'string' ? [{ pn: `${r.id}@s.whatsapp.net`, lid: `${lid}@lid` }] : []
  })
}
