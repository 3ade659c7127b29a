import type { Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { routes } from '../handlers/index.ts'
import { createAuthStore } from '../session/auth-store.ts'
import { createChatStore } from '../session/chat-store.ts'
import { lockDataDir, prepareDataDir } from '../session/data-dir.ts'
import { openDb, type Db } from '../session/db.ts'
import { createEmitter, type Emitter } from '../session/events.ts'
import { createSession, type WaSession } from '../session/session.ts'
import { createStoreHealth } from '../session/store-health.ts'
import { createVoteEngine } from '../session/vote-engine.ts'
import { createBaileysSocket, type SocketFactory } from '../session/wa-socket.ts'
import { callerRules, refuseCaller } from './caller-guard.ts'
import type { Config } from './config.ts'
import { createHttpServer } from './http-app.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { createQrRenderer } from './qr-svg.ts'
import { createRouter } from './router.ts'
import { attachSocketIo } from './socket-io.ts'
import { createTokenGuard } from './token-guard.ts'

export interface App {
  server: Server
  session: WaSession
  emitter: Emitter
  metrics: Metrics
  /**
   * Stops WhatsApp, drains the vote engine and closes the store first, then Socket.IO and HTTP
   * (a request still open after a short grace is cut), and gives DATA_DIR back.
   */
  shutdown(): Promise<void>
}

/** How long open HTTP requests get to finish at shutdown before their connections are cut. */
const HTTP_CLOSE_GRACE_MS = 300

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url))

/** Wires the store, the vote engine, the session and the HTTP + Socket.IO server together. */
export function createApp(config: Config, log: Logger, createSocket: SocketFactory = createBaileysSocket): App {
  const dir = prepareDataDir(config.dataDir)
  if (!dir.created && dir.mode & 0o077) {
    log.warn({ dataDir: config.dataDir, mode: `0${dir.mode.toString(8)}` }, 'DATA_DIR is open to other users of this machine; it holds the WhatsApp credentials and poll secrets: chmod 700 it')
  }
  const lock = lockDataDir(config.dataDir)
  let db: Db
  try { db = openDb(config.dataDir) } catch (err) { lock.release(); throw err }
  const emitter = createEmitter()
  // One view of whether the database takes writes, fed by every writer, for GET /health.
  const health = createStoreHealth({ db, log: log.child({ module: 'store' }) })
  const auth = createAuthStore(db, {
    health,
    // A pair Baileys just stored can decrypt exactly that person's pending votes.
    onLidMapping: (pairs) => {
      votes.retryPending({ jids: pairs.flatMap((p) => [p.lid, p.pn]) }).catch((err) => log.error({ err }, 'pending vote retry failed'))
    },
  })
  let session: WaSession | null = null
  const userOf = (jid: string | undefined) => jid?.split(/[:@]/)[0]
  const chats = createChatStore(db, {
    canonical: (jid) => {
      const id = jid.endsWith('@lid') ? auth.pnForLid(jid) ?? jid : jid
      const me = session?.user()
      return userOf(id) === userOf(me?.id) || userOf(id) === userOf(me?.lid) ? null : id
    },
  })
  // Read at scrape time only, by when the engine below exists.
  const metrics = createMetrics({ stats: () => votes.stats() })
  const unwatch = metrics.watch(emitter)
  const votes = createVoteEngine({
    db,
    log: log.child({ module: 'votes' }),
    emitter,
    identity: () => ({ pn: session?.user()?.id || undefined, lid: session?.user()?.lid || undefined }),
    lidMapping: auth.lidMapping,
    metrics,
    health,
  })
  session = createSession({
    auth, chats, votes, emitter, createSocket: withLogLevel(createSocket, baileysLevel(config, log)),
    log: log.child({ module: 'session' }),
    waWebSocketUrl: config.waWsUrl,
  })
  const storeProbe = { ok: () => health.ok() }
  const dispatch = createRouter(routes, { session, polls: votes, store: storeProbe, log, metrics, qrSvg: createQrRenderer() }, {
    guard: createTokenGuard(config.apiToken),
    observe: metrics.observeHttp,
  })
  const callers = callerRules(config)
  const server = createHttpServer(dispatch, WEB_ROOT, (caller) => refuseCaller(caller, callers))
  const io = attachSocketIo(server, {
    session, polls: votes, emitter, log: log.child({ module: 'socket.io' }),
    apiToken: config.apiToken, corsOrigins: config.corsOrigins, hosts: callers.hosts,
  })

  return {
    server,
    session,
    emitter,
    metrics,
    async shutdown() {
      unwatch()
      session.stop()
      // The store first: an open HTTP request (a half-sent body) must not keep votes undrained
      // and the database open until a force timer kills the process.
      try {
        await votes.close()
      } finally {
        db.close()
        lock.release()
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
