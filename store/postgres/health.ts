import type { Logger } from 'pino'
import { createWriteHealth } from '../write-health.ts'
import { tx, type Pool } from './db.ts'

export type { WriteReporter } from '../write-health.ts'

/** The store's write health (store/write-health.ts), probed in the background with a real write. */
export function createPgHealth(deps: { pool: Pool; schema: string; log: Logger; now?: () => number }): ReturnType<typeof createWriteHealth> {
  const { pool, schema } = deps
  const now = deps.now ?? Date.now
  const probe = () => tx(pool, async (c) => {
    await c.query(`INSERT INTO "${schema}".store_probe (at) VALUES ($1)`, [now()])
    await c.query(`DELETE FROM "${schema}".store_probe`)
  })
  return createWriteHealth({ probe, log: deps.log, now })
}
