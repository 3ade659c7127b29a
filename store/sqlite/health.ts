import type { Logger } from 'pino'
import { createWriteHealth } from '../write-health.ts'
import { tx, type Db } from './db.ts'

export type { WriteReporter } from '../write-health.ts'

/** The store's write health (store/write-health.ts), probed with a real write to the file. */
export function createStoreHealth(deps: { db: Db; log: Logger; now?: () => number }): ReturnType<typeof createWriteHealth> {
  const { db } = deps
  db.exec('CREATE TABLE IF NOT EXISTS store_probe (bytes BLOB)')
  // A page's worth, so the write needs space of its own; emptied in the same transaction.
  const probe = () => { tx(db, () => db.exec('INSERT INTO store_probe (bytes) VALUES (zeroblob(8192)); DELETE FROM store_probe')) }
  return createWriteHealth({ probe, log: deps.log, now: deps.now })
}
