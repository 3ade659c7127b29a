import type { Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import type { Emitter } from '../contract/events.ts'
import { createAccount, type Account } from '../core/account.ts'
import { createBaileysSocket, type SocketFactory } from '../core/whatsapp/baileys-socket.ts'
import type { Connection } from '../core/whatsapp/connection.ts'
import { createWebhooksAdmin } from '../core/webhooks/admin.ts'
import { createDeliveryWorker } from '../core/webhooks/worker.ts'
import { routes } from '../handlers/index.ts'
import type { Store } from '../store/ports.ts'
import { openPostgresStore } from '../store/postgres/index.ts'
import { openSqliteStore } from '../store/sqlite/index.ts'
import { createAccountPool } from './accounts.ts'
import { callerRules, refuseCaller } from './caller-guard.ts'
import type { Config } from './config.ts'
import { createHttpServer } from './http-app.ts'
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
  /** the `default` account's session and events: what the GUI's unprefixed paths serve */
  session: Connection
  emitter: Emitter
  metrics: Metrics
  /** connects every account: `default` at once, the others staggered (runtime/accounts.ts) */
  start(): void
  /**
   * Stops WhatsApp, drains the vote engines and closes the store first, then Socket.IO and HTTP
   * (a request still open after a short grace is cut), and gives DATA_DIR back.
   */
  shutdown(): Promise<void>
}

/** How long open HTTP requests get to finish at shutdown before their connections are cut. */
const HTTP_CLOSE_GRACE_MS = 300

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url))

/** Wires the store, the accounts and the HTTP + Socket.IO server together. */
export async function createApp(config: Config, log: Logger, createSocket: SocketFactory = createBaileysSocket): Promise<App> {
  // PostgreSQL past one machine (DATABASE_URL), the embedded SQLite file otherwise.
  const store: Store = config.databaseUrl
    ? await openPostgresStore({ url: config.databaseUrl, log })
    : openSqliteStore({ dataDir: config.dataDir, log })
  const metrics = createMetrics({
    stats: () => Object.fromEntries([...pool.accounts].map(([id, a]) => [id, a.polls.stats()])),
    webhookBacklog: () => store.outbox.backlog(),
  })
  const socketFactory = withLogLevel(createSocket, baileysLevel(config, log))
  // Every account is one call of the same factory over its own slice of the one store.
  const pool = createAccountPool({
    store, metrics, log: log.child({ module: 'accounts' }),
    build: (id) => createAccount({
      id, store: store.account(id), log, metrics: metrics.account(id), webhooks: store.outbox,
      createSocket: socketFactory, waWebSocketUrl: config.waWsUrl,
    }),
  })
  let generatedWebhookSecret: string | null
  try {
    ;({ generatedSecret: generatedWebhookSecret } = await setupEnvEndpoints({
      env: { WEBHOOK_URL: config.webhooks.urls.join(','), WEBHOOK_SECRET: config.webhooks.secret }, dataDir: config.dataDir, outbox: store.outbox,
    }))
    await pool.load()
  } catch (err) {
    await pool.close().catch(() => undefined)
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
  const dispatch = createRouter(routes, {
    session: account.session, polls: account.polls, store: store.health, log, metrics, qrSvg: createQrRenderer(),
    webhooks: createWebhooksAdmin({ outbox: store.outbox, worker }),
    accounts: pool,
  }, {
    guard: createTokenGuard(config.apiToken),
    observe: metrics.observeHttp,
    account: (id) => pool.get(id),
  })
  const callers = callerRules(config)
  const server = createHttpServer(dispatch, WEB_ROOT, (caller) => refuseCaller(caller, callers))
  const io = attachSocketIo(server, {
    session: account.session, polls: account.polls, emitter: account.emitter, log: log.child({ module: 'socket.io' }),
    apiToken: config.apiToken, corsOrigins: config.corsOrigins, hosts: callers.hosts, accounts: pool,
  })

  return {
    server,
    generatedWebhookSecret,
    accounts: pool.accounts,
    session: account.session,
    emitter: account.emitter,
    metrics,
    start: () => pool.startAll(),
    async shutdown() {
      // The store first: an open HTTP request (a half-sent body) must not keep votes undrained
      // and the database open until a force timer kills the process.
      try {
        await pool.close()
        unwake()
        await worker.stop()
      } finally {
        await store.close()
      }
      await closeHttp(server, io, HTTP_CLOSE_GRACE_MS)
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

const withLogLevel = (create: SocketFactory, level: string): SocketFactory =>
  (opts) => create({ ...opts, logger: opts.logger.child({}, { level }) })
