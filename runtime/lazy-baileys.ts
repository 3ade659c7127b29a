import type { Account } from '../core/account.ts'
import { loadBaileys } from '../core/whatsapp/baileys-lib.ts'
import type { SocketFactory } from '../core/whatsapp/baileys-socket.ts'

/**
 * Baileys' socket factory, imported when the first account connects rather than before the
 * server listens: reads are served from the store while it loads (issue #16, "listen and serve
 * reads before Baileys is imported"). Only the type is imported statically. The import goes
 * through the core's loader (core/whatsapp/baileys-lib.ts), so the Baileys helpers the core
 * calls synchronously are there once the factory is.
 */
export function lazyBaileys() {
  let factory: SocketFactory | null = null
  let loading: Promise<void> | null = null
  const load = () => (loading ??= Promise.all([loadBaileys(), import('../core/whatsapp/baileys-socket.ts')])
    .then(([, m]) => { factory = m.createBaileysSocket }))
  return {
    /** starts the import (once); resolves when the factory is there */
    load,
    /** the factory for createAccount: called only by an account's start, which `deferStart` holds until load() resolved */
    factory: ((opts) => {
      if (!factory) throw new Error('Baileys is not loaded yet')
      return factory(opts)
    }) as SocketFactory,
    /**
     * The account, its `start` held until the import is done; a start asked for meanwhile
     * (POST /accounts, the cluster taking a lock) happens then, unless the account closed first.
     */
    deferStart(account: Account, onError: (err: unknown) => void): Account {
      let closed = false
      return {
        ...account,
        start: () => {
          if (factory) return account.start()
          load().then(() => { if (!closed) account.start() }, onError)
        },
        close: () => { closed = true; return account.close() },
      }
    },
  }
}
