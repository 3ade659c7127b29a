import type { Logger } from 'pino'
import type { StoreHealth } from './ports.ts'

/** What every writer tells the health tracker. */
export interface WriteReporter {
  failed(err: unknown, what: string): void
  committed(): void
}

/**
 * Whether a store takes writes, for GET /health; fed by every writer of the store. A failed
 * write (disk full, I/O error, read-only database, connection lost) is logged once with its
 * real error, later ones quietly; the first write that works again says so. `ok()` must answer
 * at once, so while writes fail it runs `probe` (a small real write) at most once a second and
 * one at a time: a synchronous probe (SQLite) clears the state in the same call, an
 * asynchronous one (PostgreSQL) for the next call. Either way the state clears by itself once
 * writes work again, even when nothing else is written.
 */
export function createWriteHealth(deps: { probe: () => void | Promise<void>; log: Logger; now?: () => number }): StoreHealth & WriteReporter & { probe(): Promise<boolean> } {
  const { log } = deps
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
    if (probing) return probing
    let written: void | Promise<void>
    try {
      written = deps.probe()
    } catch {
      return Promise.resolve(false)
    }
    if (!(written instanceof Promise)) {
      committed()
      return Promise.resolve(true)
    }
    probing = written.then(() => { committed(); return true }, () => false).finally(() => { probing = null })
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

/** Runs one synchronous write (SQLite) and reports it: committed, or failed with its real error, which is thrown on. */
export function reportWrite<T>(health: WriteReporter, what: string, fn: () => T): T {
  let out: T
  try { out = fn() } catch (err) { health.failed(err, what); throw err }
  health.committed()
  return out
}

/** The same for an asynchronous write (PostgreSQL). */
export async function reportWriteAsync<T>(health: WriteReporter, what: string, fn: () => Promise<T>): Promise<T> {
  let out: T
  try { out = await fn() } catch (err) { health.failed(err, what); throw err }
  health.committed()
  return out
}
