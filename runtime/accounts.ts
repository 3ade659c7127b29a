import type { Logger } from 'pino'
import { AccountError, publicStatus, type AccountsAdmin, type AccountSummary } from '../contract/account.ts'
import type { Account } from '../core/account.ts'
import type { Store } from '../store/ports.ts'
import type { Metrics } from './metrics.ts'

/** `replaced`: another object holds the account now; `announce`: its clients should get the whole state again (it changed owner) */
export type AccountChange = { added: Account } | { removed: string } | { replaced: Account; announce: boolean }

export interface AccountPoolDeps {
  store: Pick<Store, 'accounts' | 'addAccount' | 'removeAccount'>
  metrics: Pick<Metrics, 'watch' | 'forget'>
  log: Logger
  /** one account from its slice of the store (createAccount with the app's dependencies) */
  build(id: string): Promise<Account>
  /** the gap between two accounts' first connections at start (default 250 ms) */
  staggerMs?: number
  /** plus up to this much at random (default 250 ms), so restarted servers do not line up either */
  jitterMs?: number
  random?: () => number
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void }
}

/** The accounts of one server: the ones registered in the store, open and by id. */
export interface AccountPool extends AccountsAdmin {
  /** the open accounts by id, `default` first */
  readonly accounts: ReadonlyMap<string, Account>
  get(id: string): Account | undefined
  /** opens every registered account (each reads its slice of the store); once, before serving */
  load(): Promise<void>
  /** connects every open account: `default` at once, each other one a stagger (plus jitter) after the previous */
  startAll(): void
  /** connects these open accounts in the same way, the first at once (several processes: those this one took) */
  startInTurn(list: Account[]): void
  /** an account was added (built, not yet started), removed, or replaced by another object of the same id; returns the remover */
  onChange(fn: (change: AccountChange) => void): () => void
  /**
   * Puts `account` in place of the open account of its id (several processes: it changed
   * between owned and followed) and returns the one it replaced, for the caller to close.
   */
  replace(account: Account, opts?: { announce?: boolean }): Account | undefined
  /** Opens accounts registered since (by another process) and forgets those unregistered since, without logging them out. */
  sync(): Promise<void>
  /** stops pending starts and closes every account (WhatsApp first, then its vote engine) */
  close(): Promise<void>
}

const nodeTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * Holds the accounts by id. Adding one registers it in the store first (so it comes back after
 * a restart), then builds and starts it; removing one takes it out of the map first (its routes
 * and namespace answer 404 at once), logs it out without a fresh pairing, closes it, and only
 * then deletes its rows. At start the accounts connect one after another, `staggerMs` apart plus
 * jitter: fifty accounts do not open fifty sockets to WhatsApp in the same second.
 */
export function createAccountPool(deps: AccountPoolDeps): AccountPool {
  const { store, metrics, log } = deps
  const timers = deps.timers ?? nodeTimers
  const random = deps.random ?? Math.random
  const staggerMs = deps.staggerMs ?? 250
  const jitterMs = deps.jitterMs ?? 250
  const accounts = new Map<string, Account>()
  const unwatch = new Map<string, () => void>()
  const listeners = new Set<(change: AccountChange) => void>()
  const starts = new Set<unknown>()
  /** ids being added or removed: a second request for the same id meanwhile is refused */
  const busy = new Set<string>()
  let closed = false

  const open = async (id: string) => {
    const account = await deps.build(id)
    accounts.set(id, account)
    unwatch.set(id, metrics.watch(account.emitter, id))
    for (const fn of listeners) fn({ added: account })
    return account
  }

  const summary = (a: Account): AccountSummary => {
    const status = publicStatus(a.session.status())
    return { id: a.id, status, user: status === 'ready' ? a.session.user() : null }
  }

  return {
    accounts,
    get: (id) => accounts.get(id),
    async load() {
      for (const id of await store.accounts()) if (!accounts.has(id)) await open(id)
    },
    startAll() {
      this.startInTurn([...accounts.values()])
    },
    startInTurn(list) {
      let i = 0
      for (const account of list) {
        if (i === 0) { account.start(); i++; continue }
        const delay = i++ * staggerMs + Math.floor(random() * jitterMs)
        const handle = timers.setTimeout(() => {
          starts.delete(handle)
          // Removed or replaced (or the server stopping) meanwhile: nothing to start.
          if (!closed && accounts.get(account.id) === account) account.start()
        }, delay)
        starts.add(handle)
      }
      log.info({ accounts: list.length, spreadMs: Math.max(0, i - 1) * staggerMs + jitterMs }, 'accounts connecting')
    },
    list: () => [...accounts.values()].map(summary),
    async add(id) {
      if (closed) throw new AccountError('store_unavailable', 'the server is shutting down')
      if (accounts.has(id) || busy.has(id)) return null
      busy.add(id)
      try {
        if (!await store.addAccount(id)) return null
        let account: Account
        try {
          account = await open(id)
        } catch (err) {
          // Not half there: an account that could not be built is not registered either.
          await store.removeAccount(id, false).catch(() => undefined)
          throw err
        }
        account.start()
        return summary(account)
      } finally {
        busy.delete(id)
      }
    },
    async remove(id, purge) {
      const account = accounts.get(id)
      if (!account || id === 'default' || busy.has(id)) return false
      busy.add(id)
      try {
        accounts.delete(id)
        for (const fn of listeners) fn({ removed: id })
        unwatch.get(id)?.()
        unwatch.delete(id)
        // Unlinks the device when connected; the credentials and chats go with it.
        await account.session.logout({ pairAgain: false }).catch((err) => log.warn({ err, account: id }, 'logout failed; removing anyway'))
        await account.close()
        await store.removeAccount(id, purge)
        await metrics.forget(id)
        return true
      } finally {
        busy.delete(id)
      }
    },
    replace(account, opts = {}) {
      const old = accounts.get(account.id)
      if (!old || closed) return undefined
      accounts.set(account.id, account)
      unwatch.get(account.id)?.()
      unwatch.set(account.id, metrics.watch(account.emitter, account.id))
      for (const fn of listeners) fn({ replaced: account, announce: opts.announce ?? false })
      return old
    },
    async sync() {
      const registered = await store.accounts()
      for (const id of registered) if (!accounts.has(id) && !busy.has(id) && !closed) await open(id)
      for (const [id, account] of accounts) {
        if (registered.includes(id) || busy.has(id)) continue
        accounts.delete(id)
        for (const fn of listeners) fn({ removed: id })
        unwatch.get(id)?.()
        unwatch.delete(id)
        await account.close()
      }
    },
    onChange(fn) {
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    },
    async close() {
      closed = true
      for (const h of starts) timers.clearTimeout(h)
      starts.clear()
      for (const off of unwatch.values()) off()
      unwatch.clear()
      for (const a of accounts.values()) await a.close()
    },
  }
}
