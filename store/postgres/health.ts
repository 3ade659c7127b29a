import type { Logger } from 'pino'
import type { StoreHealth } from '../ports.ts'
import { tx, type Pool } from './db.ts'

/** What every writer tells the health tracker. */
export interface WriteReporter {
  failed(err: unknown, what: string): void
  committed(): void
}

/**
 * Whether the store takes writes, for GET /health, as store/sqlite/health.ts: a failed write
 * (disk full on the server, read-only database, connection lost) is logged once with its real
 * error, later ones quietly; the first write that works again says so. `ok()` must answer at
 * once, and PostgreSQL cannot, so while it fails `ok()` starts a small real write in the
 * background now and then (at most one a second, one at a time): its success clears the state
 * for the next call even when nothing else is written.
 */
export function createPgHealth(deps: { pool: Pool; schema: string; log: Logger; now?: () => number }): StoreHealth & WriteReporter & { probe(): Promise<boolean> } {
  const { pool, schema, log } = deps
  const now = deps.now ?? Date.now
  let failing = false
  let lastProbe = 0
  let probing: Promise<boolean> | null = null
  const committed = () => {
    if (!failing) return
    failing = false
    log.info('store writes work again')
  }
  const probe = (): Promise<boolean> => {
    probing ??= tx(pool, async (c) => {
      await c.query(`INSERT INTO "${schema}".store_probe (at) VALUES ($1)`, [now()])
      await c.query(`DELETE FROM "${schema}".store_probe`)
    }).then(() => { committed(); return true }, () => false).finally(() => { probing = null })
    return probing
  }
  return {
    failed(err, what) {
      if (failing) { log.debug({ what }, 'store write failed again'); return }
      failing = true
      lastProbe = now()
      log.error({ err, what }, 'store write failed: nothing is acknowledged to WhatsApp until writes work again')
    },
    committed,
    ok() {
      if (failing && !probing && now() - lastProbe >= 1000) {
        lastProbe = now()
        void probe()
      }
      return !failing
    },
    probe,
  }
}
