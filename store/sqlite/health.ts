import type { Logger } from 'pino'
import type { StoreHealth } from '../ports.ts'
import { tx, type Db } from './db.ts'

/** What every writer tells the health tracker. */
export interface WriteReporter {
  failed(err: unknown, what: string): void
  committed(): void
}

/**
 * Whether the store takes writes, for GET /health; fed by every writer of every database file.
 * A failed write (disk full, I/O error) is reported once with its real error; later failures
 * while it lasts are quiet; the first write that works again says so. While it fails, `ok()`
 * tries a small real write now and then, so the state clears by itself once space returns
 * even when nothing else is written.
 */
export function createStoreHealth(deps: { db: Db; log: Logger; now?: () => number }): StoreHealth & WriteReporter {
  const { db, log } = deps
  const now = deps.now ?? Date.now
  db.exec('CREATE TABLE IF NOT EXISTS store_probe (bytes BLOB)')
  let failing = false
  let lastProbe = 0
  const committed = () => {
    if (!failing) return
    failing = false
    log.info('store writes work again')
  }
  // A page's worth, so the write needs space of its own; emptied in the same transaction.
  const probe = () => tx(db, () => db.exec('INSERT INTO store_probe (bytes) VALUES (zeroblob(8192)); DELETE FROM store_probe'))
  return {
    failed(err, what) {
      if (failing) { log.debug({ what }, 'store write failed again'); return }
      failing = true
      lastProbe = now()
      log.error({ err, what }, 'store write failed: nothing is acknowledged to WhatsApp until writes work again')
    },
    committed,
    ok() {
      if (failing && now() - lastProbe >= 1000) {
        lastProbe = now()
        try { probe(); committed() } catch { /* still failing */ }
      }
      return !failing
    },
  }
}
