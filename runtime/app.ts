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
import { openSqliteStore } from '../store/sqlite/index.ts'
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
  /** the linked accounts by id (only `default` today) */
  accounts: ReadonlyMap<string, Account>
  /** the `default` account's session and events: what the GUI's unprefixed paths serve */
  session: Connection
  emitter: Emitter
  metrics: Metrics
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
  const store: Store = openSqliteStore({ dataDir: config.dataDir, log })
  let account: Account
  const metrics = createMetrics({ stats: () => account.polls.stats(), webhookBacklog: () => store.outbox.backlog() })
  let generatedWebhookSecret: string | null
  try {
    ;({ generatedSecret: generatedWebhookSecret } = await setupEnvEndpoints({
      env: { WEBHOOK_URL: config.webhooks.urls.join(','), WEBHOOK_SECRET: config.webhooks.secret }, dataDir: config.dataDir, outbox: store.outbox,
    }))
    account = await createAccount({
      id: 'default', store: store.account('default'), log, metrics, webhooks: store.outbox,
      createSocket: withLogLevel(createSocket, baileysLevel(config, log)), waWebSocketUrl: config.waWsUrl,
    })
  } catch (err) {
    await store.close()
    throw err
  }
  const accounts = new Map([[account.id, account]])
  // Delivery runs beside the vote path: a commit that wrote events only wakes it.
  const worker = createDeliveryWorker({
    outbox: store.outbox, log: log.child({ module: 'webhooks' }), retryForMs: config.webhooks.retryForMs,
    yieldTo: () => [...accounts.values()].some((a) => a.polls.busy()),
    metrics: { delivery: (outcome) => metrics.webhookDelivery(outcome) },
  })
  const unwake = store.outbox.onAppend(() => worker.wake())
  await worker.start()
  const unwatch = metrics.watch(account.emitter)
  const dispatch = createRouter(routes, {
    session: account.session, polls: account.polls, store: store.health, log, metrics, qrSvg: createQrRenderer(),
    webhooks: createWebhooksAdmin({ outbox: store.outbox, worker }),
  }, {
    guard: createTokenGuard(config.apiToken),
    observe: metrics.observeHttp,
  })
  const callers = callerRules(config)
  const server = createHttpServer(dispatch, WEB_ROOT, (caller) => refuseCaller(caller, callers))
  const io = attachSocketIo(server, {
    session: account.session, polls: account.polls, emitter: account.emitter, log: log.child({ module: 'socket.io' }),
    apiToken: config.apiToken, corsOrigins: config.corsOrigins, hosts: callers.hosts,
  })

  return {
    server,
    generatedWebhookSecret,
    accounts,
    session: account.session,
    emitter: account.emitter,
    metrics,
    async shutdown() {
      unwatch()
      // The store first: an open HTTP request (a half-sent body) must not keep votes undrained
      // and the database open until a force timer kills the process.
      try {
        for (const a of accounts.values()) await a.close()
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
