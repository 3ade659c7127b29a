import type { Server } from 'node:http'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import type { Emitter } from '../contract/events.ts'
import { createAccount, type Account } from '../core/account.ts'
import type { SocketFactory } from '../core/whatsapp/baileys-socket.ts'
import type { Connection } from '../core/whatsapp/connection.ts'
import { createWebhooksAdmin } from '../core/webhooks/admin.ts'
import { createDeliveryWorker } from '../core/webhooks/worker.ts'
import { routes } from '../handlers/index.ts'
import type { Store } from '../store/ports.ts'
import { openSqliteStore } from '../store/sqlite/index.ts'
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { createAccountPool, type AccountPool } from './accounts.ts'
import { clusterAccounts } from './cluster-accounts.ts'
import { createCoordinator, forwardToOwner, type Coordinator } from './cluster.ts'
import { callerRules, refuseCaller } from './caller-guard.ts'
import type { Config } from './config.ts'
import { createHttpServer } from './http-app.ts'
import { lazyBaileys } from './lazy-baileys.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { createQrRenderer } from './qr-svg.ts'
import { createRouter } from './router.ts'
import { attachSocketIo } from './socket-io.ts'
import { createTokenGuard } from './token-guard.ts'
import { setupEnvEndpoints } from './webhook-endpoints.ts'

export interface App {
  server: Server
  /** a webhook secret made at this start (WEBHOOK_URL without WEBHOOK_SECRET), to show once on the terminal */
  generatedWebhookSecret: string | null
  /** the linked accounts by id, `default` first (POST /accounts adds, DELETE /accounts/:id removes) */
  accounts: ReadonlyMap<string, Account>
  /**
   * the `default` account's session and events: what the GUI's unprefixed paths serve, whichever
   * object holds the account right now (several processes: it changes between owned and followed)
   */
  readonly session: Connection
  emitter: Emitter
  metrics: Metrics
  /**
   * Connects every account: `default` at once, the others staggered (runtime/accounts.ts); with
   * several processes, those whose lock this one takes (`port`: where it listens, for forwarding).
   */
  start(port?: number): void
  /**
   * Stops WhatsApp, drains the vote engines and closes the store first, then Socket.IO and HTTP
   * (a request still open after a short grace is cut), and gives DATA_DIR back.
   */
  shutdown(): Promise<void>
}

/** How long open HTTP requests get to finish at shutdown before their connections are cut. */
const HTTP_CLOSE_GRACE_MS = 300

// The dashboard's files: beside runtime/ when run from the sources, two levels up from dist/runtime/.
const WEB_ROOT = [new URL('../web/', import.meta.url), new URL('../../web/', import.meta.url)]
  .map((u) => fileURLToPath(u)).find((dir) => existsSync(join(dir, 'index.html'))) ?? fileURLToPath(new URL('../web/', import.meta.url))

/** Wires the store, the accounts and the HTTP + Socket.IO server together. */
export async function createApp(config: Config, log: Logger, createSocket?: SocketFactory): Promise<App> {
  // PostgreSQL past one machine (DATABASE_URL), the embedded SQLite file otherwise.
  const pgParts = config.databaseUrl ? await import('./postgres-parts.ts') : null
  const pg = pgParts ? await pgParts.openPostgresStore({ url: config.databaseUrl!, log }) : null
  const store: Store = pg ?? openSqliteStore({ dataDir: config.dataDir, log })
  const metrics = createMetrics({
    stats: () => Object.fromEntries([...pool.accounts].map(([id, a]) => [id, a.polls.stats()])),
    webhookBacklog: () => store.outbox.backlog(),
  })
  // Without a factory given (tests give theirs), Baileys' is imported once the server listens.
  const baileys = createSocket ? null : lazyBaileys()
  const socketFactory = withLogLevel(createSocket ?? baileys!.factory, baileysLevel(config, log))
  // Every account is one call of the same factory over its own slice of the one store.
  const buildAccount = async (id: string) => {
    const account = await createAccount({
      id, store: store.account(id), log, metrics: metrics.account(id), webhooks: store.outbox,
      createSocket: socketFactory, waWebSocketUrl: config.waWsUrl, campaigns: { maxPerMinute: config.campaignMaxPerMinute },
    })
    return baileys ? baileys.deferStart(account, (err) => log.error({ err, account: id }, 'Baileys could not be loaded')) : account
  }
  // Several processes on one PostgreSQL database: the pool holds follower copies of the accounts
  // another process owns; those whose lock this process takes at load it builds once, as owner,
  // and later ones the coordinator builds afresh; it connects them all.
  let advertised = config.advertiseUrl ?? ''
  const cluster = pgParts && pg ? await pgParts.openCluster(pg.pool, {
    url: config.databaseUrl!, schema: pg.schema, log: log.child({ module: 'cluster' }), processId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    advertiseUrl: () => advertised,
  }).catch(async (err) => { await store.close(); throw err }) : null
  let coordinator: Coordinator | null = null
  const pool = createAccountPool({
    store, metrics, log: log.child({ module: 'accounts' }),
    build: (id) => (coordinator ? coordinator.open(id) : buildAccount(id)),
  })
  if (cluster && pg) {
    coordinator = createCoordinator({ cluster, pool, build: buildAccount, resyncSeq: (id) => pg.resyncSeq(id), log: log.child({ module: 'cluster' }) })
  }
  let generatedWebhookSecret: string | null
  try {
    ;({ generatedSecret: generatedWebhookSecret } = await setupEnvEndpoints({
      env: { WEBHOOK_URL: config.webhooks.urls.join(','), WEBHOOK_SECRET: config.webhooks.secret }, dataDir: config.dataDir, outbox: store.outbox,
    }))
    await pool.load()
  } catch (err) {
    await pool.close().catch(() => undefined)
    await cluster?.close()
    await store.close()
    throw err
  }
  const account = pool.get('default')!
  // Delivery runs beside the vote path: a commit that wrote events only wakes it. Any account's
  // vote burst makes it wait, at most a couple of seconds per round (core/webhooks/worker.ts).
  const worker = createDeliveryWorker({
    outbox: store.outbox, log: log.child({ module: 'webhooks' }), retryForMs: config.webhooks.retryForMs,
    yieldTo: () => { for (const a of pool.accounts.values()) if (a.polls.busy()) return true; return false },
    metrics: { delivery: (outcome) => metrics.webhookDelivery(outcome) },
  })
  const unwake = store.outbox.onAppend(() => worker.wake())
  await worker.start()
  const tokenGuard = createTokenGuard(config.apiToken)
  // A request another process of the cluster forwarded passed its guards there.
  const fromCluster = (req: Request | undefined) => !!(coordinator && req && coordinator.fromCluster(req))
  const dispatch = createRouter(routes, {
    session: account.session, polls: account.polls, campaigns: account.campaigns, store: store.health, log, metrics, qrSvg: createQrRenderer(),
    webhooks: createWebhooksAdmin({ outbox: store.outbox, worker }),
    accounts: coordinator ? clusterAccounts(pool, coordinator) : pool,
  }, {
    guard: tokenGuard && ((req) => { if (!fromCluster(req)) tokenGuard(req) }),
    observe: metrics.observeHttp,
    account: (id) => pool.get(id),
    forward: coordinator ? (id, req) => (coordinator!.owns(id) ? null : forwardToOwner(coordinator!, id, req)) : undefined,
  })
  const callers = callerRules(config)
  // The Socket.IO adapter keeps one connection checked out (its LISTEN) until Socket.IO closes,
  // after the store: on the store's pool, closing the store would wait for it forever. One more
  // connection publishes, so events are published, and delivered here, in the order emitted.
  const adapterPool = pgParts && pg ? pgParts.openPool({ url: config.databaseUrl!, log: log.child({ module: 'socket.io' }), max: 2 }) : null
  const server = createHttpServer(dispatch, WEB_ROOT, (caller) => (fromCluster(caller.req) ? null : refuseCaller(caller, callers)))
  const io = attachSocketIo(server, {
    session: account.session, polls: account.polls, emitter: account.emitter, log: log.child({ module: 'socket.io' }),
    apiToken: config.apiToken, corsOrigins: config.corsOrigins, hosts: callers.hosts, accounts: pool,
    adapter: pgParts && pg && adapterPool ? pgParts.createAdapter(adapterPool, { tableName: `"${pg.schema}".socket_io_attachments` }) : undefined,
  })

  return {
    server,
    generatedWebhookSecret,
    accounts: pool.accounts,
    get session() { return pool.get('default')!.session },
    emitter: defaultEvents(pool),
    metrics,
    start(port) {
      // The import goes on while the first requests are answered; each account connects once it is done.
      void baileys?.load().catch((err) => log.error({ err }, 'Baileys could not be loaded'))
      if (!coordinator) return pool.startAll()
      advertised ||= `http://${isWildcard(config.host) ? hostname() : config.host}:${port ?? config.port}`
      coordinator.start().catch((err) => log.error({ err }, 'cluster coordinator failed to start'))
    },
    async shutdown() {
      // The store first: an open HTTP request (a half-sent body) must not keep votes undrained
      // and the database open until a force timer kills the process.
      try {
        await coordinator?.stop()
        await pool.close()
        unwake()
        await worker.stop()
      } finally {
        // Ending the lock session frees this process's accounts for another at once.
        await cluster?.close()
        await store.close()
      }
      await closeHttp(server, io, HTTP_CLOSE_GRACE_MS)
      await adapterPool?.end()
    },
  }
}

/**
 * Closes Socket.IO (which closes the HTTP server: no new connections, idle ones closed) and
 * cuts the connections still open after `graceMs`, so no client can hold shutdown.
 */
async function closeHttp(server: Server, io: { close(): Promise<void> }, graceMs: number): Promise<void> {
  const closed = io.close()
  const cut = setTimeout(() => server.closeAllConnections?.(), graceMs)
  try {
    await closed
  } finally {
    clearTimeout(cut)
  }
}

/**
 * Baileys' level: BAILEYS_LOG_LEVEL when set, else LOG_LEVEL but never more verbose than info.
 * At debug and trace Baileys logs every frame it sends and receives — pairing refs, device
 * identities, prekey uploads — so LOG_LEVEL=trace for our own code must not switch that on.
 */
export function baileysLevel(config: Pick<Config, 'baileysLogLevel'>, log: Logger): string {
  if (config.baileysLogLevel) return config.baileysLogLevel
  return log.levelVal < log.levels.values.info! ? 'info' : log.level
}

/** The `default` account's events from whichever object holds it, followed across replacements. */
function defaultEvents(pool: AccountPool): Emitter {
  return {
    on(event, fn) {
      let off = pool.get('default')!.emitter.on(event, fn)
      const unwatch = pool.onChange((change) => {
        if (!('replaced' in change) || change.replaced.id !== 'default') return
        off()
        off = change.replaced.emitter.on(event, fn)
      })
      return () => { off(); unwatch() }
    },
    emit(event, ...args) { pool.get('default')!.emitter.emit(event, ...args) },
  }
}

const withLogLevel = (create: SocketFactory, level: string): SocketFactory =>
  (opts) => create({ ...opts, logger: opts.logger.child({}, { level }) })

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === ''
