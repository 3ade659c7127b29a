import type { Logger } from 'pino'
import { type ConnectionStatus, type WaUser } from '../contract/account.ts'
import type { Account } from '../core/account.ts'
import type { Cluster, OwnerRow } from '../store/postgres/cluster.ts'
import type { AccountPool } from './accounts.ts'
import { tokenMatches } from './token-guard.ts'

/** Forwarded requests carry the cluster secret in this header, and are never forwarded again. */
export const CLUSTER_HEADER = 'x-pollwire-cluster'

export interface CoordinatorDeps {
  cluster: Cluster
  pool: AccountPool
  /** an account from the store as it stands, to own (not started: connecting is the coordinator's call) */
  build(id: string): Promise<Account>
  /** before owning an account: continue its journal numbers after what the last owner wrote */
  resyncSeq(id: string): Promise<void>
  log: Logger
  /** how often free accounts are tried (default 1000 ms) */
  intervalMs?: number
  /** a follower's copy is rebuilt at most this often while its owner commits (default 500 ms) */
  refreshMs?: number
}

/** An owner row older than this is a dead owner's (its lock is gone; the row was not cleaned). */
const STALE_MS = 15_000

/**
 * Several processes on one PostgreSQL database (API.md, "Past one machine"). Each account is
 * owned by the process holding its advisory lock (store/postgres/cluster.ts): only there does it
 * connect to WhatsApp, ingest votes and send. Every other process holds a follower copy of the
 * account read from the database and rebuilt when the owner says it committed: it answers
 * reads (polls, votes, chats, campaigns) itself, shows the owner's published connection state,
 * and forwards writes (sends, logout, pairing, campaign actions) to the owner. When the owner's
 * lock is freed (it died, hung or lost PostgreSQL), the first process to take the lock builds
 * the account afresh from the database and connects: WhatsApp redelivers what the dead owner
 * had not acknowledged, and the journal records each of those once.
 */
export function createCoordinator(deps: CoordinatorDeps) {
  const { cluster, pool, log } = deps
  const intervalMs = deps.intervalMs ?? 1000
  const refreshMs = deps.refreshMs ?? 500
  let owners = new Map<string, OwnerRow & { heartbeatAt: number }>()
  const refreshing = new Map<string, ReturnType<typeof setTimeout>>()
  /** ids whose role is changing right now: one change at a time per account */
  const moving = new Set<string>()
  const offs: Array<() => void> = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const ownerOf = (id: string) => {
    const o = owners.get(id)
    return o && o.processId !== cluster.processId && Date.now() - o.heartbeatAt < STALE_MS ? o : undefined
  }

  /** A follower copy: the account as stored, showing the owner's connection state. */
  async function follower(id: string): Promise<Account> {
    const a = await deps.build(id)
    const status = (): ConnectionStatus => (ownerOf(id)?.status as ConnectionStatus | undefined) ?? 'disconnected'
    return {
      ...a,
      session: {
        ...a.session,
        status,
        user: () => (status() === 'ready' ? (ownerOf(id)?.user as WaUser | null) ?? null : null),
        qr: () => (status() === 'qr_pending' ? ownerOf(id)?.qr ?? null : null),
      },
      // Never connects: the owner does.
      start: () => undefined,
    }
  }

  /** Puts a new copy of `id` in the pool and closes the old; `announce` when it changed owner. */
  async function swap(id: string, make: () => Promise<Account>, announce: boolean): Promise<Account | undefined> {
    const next = await make()
    const old = pool.replace(next, { announce })
    if (!old) { await next.close(); return undefined }
    // Its WhatsApp socket ends at once (close() stops it first); the rest drains in the
    // background, and a slow drain never holds the account's next change of role.
    const closing = old.close().catch((err) => log.warn({ err, account: id }, 'the replaced copy did not close cleanly'))
    const slow = new Promise<'slow'>((resolve) => { const t = setTimeout(() => resolve('slow'), 5000); t.unref?.() })
    if (await Promise.race([closing.then(() => 'closed' as const), slow]) === 'slow') log.warn({ account: id }, 'the replaced copy is still closing after 5 s')
    return next
  }

  function publish(a: Account): Promise<void> {
    return cluster.publish(a.id, { status: a.session.status(), user: a.session.user(), qr: a.session.qr() })
      .catch((err) => log.warn({ err, account: a.id }, 'owner state not published'))
  }

  /** Hooks an account this process owns to the cluster: its state is published, its commits hinted. */
  async function own(a: Account): Promise<void> {
    const announce = () => { void publish(a) }
    for (const ev of ['status', 'qr', 'user'] as const) offs.push(a.emitter.on(ev, announce))
    // Committed here: the followers rebuild their copies.
    offs.push(a.emitter.on('poll:update', () => changed(a.id)), a.emitter.on('poll:new', () => changed(a.id)), a.emitter.on('campaign:update', () => changed(a.id)))
    await publish(a)
    log.info({ account: a.id }, 'this process owns the account now')
  }

  /** This process took the lock: build the account afresh from the database; the caller connects it. */
  async function takeOver(id: string): Promise<Account | undefined> {
    moving.add(id)
    try {
      const timer = refreshing.get(id)
      if (timer) { clearTimeout(timer); refreshing.delete(id) }
      await deps.resyncSeq(id)
      const a = await swap(id, () => deps.build(id), true)
      if (!a) { await cluster.release(id); return undefined }
      await own(a)
      return a
    } catch (err) {
      log.error({ err, account: id }, 'taking the account over failed; letting it go')
      await cluster.release(id)
      return undefined
    } finally {
      moving.delete(id)
    }
  }

  /** Accounts whose lock this process took while the pool loaded: built once, as owner; start() hooks and connects them. */
  const early: Account[] = []
  let started = false

  /**
   * The pool's first build of an account. Before start(), the lock is tried first: a process
   * that gets it (one alone on the database, say) builds the account once, as its owner, instead
   * of a follower copy now and the owner's afresh a moment later (twice the load time and memory).
   */
  async function open(id: string): Promise<Account> {
    if (started || stopped) return follower(id)
    let got = false
    try { got = await cluster.tryAcquire(id) } catch (err) { log.warn({ err, account: id }, 'lock not tried at load') }
    if (!got) return follower(id)
    try {
      await deps.resyncSeq(id)
      const a = await deps.build(id)
      early.push(a)
      return a
    } catch (err) {
      log.error({ err, account: id }, 'building the account to own failed; letting it go')
      await cluster.release(id)
      return follower(id)
    }
  }

  /** What start() does with the accounts taken at load: hooked and published, or followed if the lock went meanwhile. */
  async function adopt(): Promise<Account[]> {
    const owned: Account[] = []
    for (const a of early.splice(0)) {
      if (pool.get(a.id) !== a) continue
      if (!cluster.owns(a.id)) {
        moving.add(a.id)
        try { await swap(a.id, () => follower(a.id), true) } catch (err) { log.error({ err, account: a.id }, 'could not rebuild the follower copy') } finally { moving.delete(a.id) }
        continue
      }
      await own(a)
      owned.push(a)
    }
    return owned
  }

  // At most one hint per account per refreshMs: followers rebuild on it anyway.
  const hinted = new Map<string, ReturnType<typeof setTimeout>>()
  function changed(id: string): void {
    if (hinted.has(id)) return
    hinted.set(id, setTimeout(() => { hinted.delete(id); void cluster.notify('changed', id) }, refreshMs / 2))
  }

  /** The lock session died: stop WhatsApp for every account at once, keep answering reads as a follower. */
  async function demoteAll(): Promise<void> {
    for (const a of [...pool.accounts.values()]) {
      if (moving.has(a.id)) continue
      moving.add(a.id)
      try { await swap(a.id, () => follower(a.id), true) } catch (err) { log.error({ err, account: a.id }, 'could not rebuild the follower copy') } finally { moving.delete(a.id) }
    }
  }

  function scheduleRefresh(id: string): void {
    if (cluster.owns(id) || refreshing.has(id) || stopped) return
    refreshing.set(id, setTimeout(() => {
      refreshing.delete(id)
      if (cluster.owns(id) || moving.has(id) || stopped) return
      moving.add(id)
      swap(id, () => follower(id), false)
        .catch((err) => log.warn({ err, account: id }, 'follower copy not refreshed'))
        .finally(() => moving.delete(id))
    }, refreshMs))
  }

  async function refreshOwners(): Promise<void> {
    try { owners = await cluster.owners() } catch (err) { log.debug({ err }, 'owner rows not read') }
  }

  /** `taken`: accounts already owned, to connect in the same turn (before those taken now). */
  async function tick(taken: Account[] = []): Promise<void> {
    // The lock session (and its LISTEN) is opened again here after it was lost, whatever the accounts are doing.
    await cluster.start()
    await refreshOwners()
    for (const id of [...pool.accounts.keys()]) {
      if (stopped) break
      if (cluster.owns(id) || moving.has(id)) continue
      try {
        if (await cluster.tryAcquire(id)) {
          const a = await takeOver(id)
          if (a) taken.push(a)
        }
      } catch (err) {
        log.warn({ err, account: id }, 'lock not tried')
      }
    }
    // Connected one after another, as a single process does at start (`default` first).
    if (taken.length && !stopped) pool.startInTurn(taken)
  }

  function loop(): void {
    if (stopped) return
    timer = setTimeout(() => { tick().finally(loop) }, intervalMs)
  }

  return {
    /** The accounts taken at load are hooked up; the other free ones are taken (built afresh), all connected in turn; the loop keeps trying. */
    async start(): Promise<void> {
      started = true
      await cluster.start()
      offs.push(cluster.onLost(() => { void demoteAll() }))
      // Commits announced while this process was not listening: every copy is read again.
      offs.push(cluster.onReopen(() => {
        void refreshOwners()
        for (const id of pool.accounts.keys()) scheduleRefresh(id)
      }))
      offs.push(cluster.onNotify((channel, id) => {
        log.debug({ channel, account: id }, 'cluster hint')
        if (channel === 'changed') scheduleRefresh(id)
        else if (channel === 'owner') void refreshOwners()
        else if (channel === 'accounts') void pool.sync().catch((err) => log.warn({ err }, 'accounts not synced'))
      }))
      await refreshOwners()
      await tick(await adopt())
      loop()
    },
    /** the account as every process but its owner holds it */
    follower,
    /** an account as the pool first builds it: owned when its lock is free before start(), else a follower copy */
    open,
    /** whether a request came from another process of this cluster (its secret, compared in constant time) */
    fromCluster: (req: Request) => tokenMatches(req.headers.get(CLUSTER_HEADER), cluster.secret),
    owns: (id: string) => cluster.owns(id),
    /** Where a write to `id` goes when another process owns it; undefined when nobody does right now. */
    ownerUrl: (id: string) => ownerOf(id)?.url,
    secret: cluster.secret,
    /** An account was added or removed here: the other processes open or forget it. */
    accountsChanged: (id: string) => cluster.notify('accounts', id),
    async stop(): Promise<void> {
      stopped = true
      clearTimeout(timer)
      for (const t of [...refreshing.values(), ...hinted.values()]) clearTimeout(t)
      for (const off of offs) off()
    },
  }
}

export type Coordinator = ReturnType<typeof createCoordinator>

/**
 * Sends a write for an account owned by another process to it, as it came (body included),
 * with the cluster secret; the owner's answer is the answer. 503 when no live process owns
 * the account (it is being taken over: try again in a few seconds).
 */
export async function forwardToOwner(c: Coordinator, account: string, req: Request): Promise<Response> {
  const url = c.ownerUrl(account)
  const unavailable = (why: string) => new Response(JSON.stringify({ success: false, message: `account ${account} ${why}; try again in a few seconds` }),
    { status: 503, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '2' } })
  if (req.headers.get(CLUSTER_HEADER)) return unavailable('changed owner while this request was forwarded')
  if (!url) return unavailable('has no owner process right now (a takeover is under way)')
  const target = new URL(req.url)
  const headers: Record<string, string> = { [CLUSTER_HEADER]: c.secret }
  for (const h of ['content-type', 'authorization']) { const v = req.headers.get(h); if (v) headers[h] = v }
  try {
    const res = await fetch(url + target.pathname + target.search, {
      method: req.method, headers, body: req.method === 'GET' ? undefined : await req.arrayBuffer(), redirect: 'manual',
      signal: AbortSignal.timeout(60_000),
    })
    return new Response(await res.arrayBuffer(), { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json; charset=utf-8' } })
  } catch (err) {
    return unavailable(`could not be reached at its owner (${err instanceof Error ? err.message : String(err)})`)
  }
}
