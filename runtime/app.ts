import type { Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { routes } from '../handlers/index.ts'
import { createAuthStore } from '../session/auth-store.ts'
import { createChatStore } from '../session/chat-store.ts'
import { openDb } from '../session/db.ts'
import { createEmitter, type Emitter } from '../session/events.ts'
import { createSession, type WaSession } from '../session/session.ts'
import { createVoteEngine } from '../session/vote-engine.ts'
import { createBaileysSocket, type SocketFactory } from '../session/wa-socket.ts'
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
  /** closes WhatsApp, Socket.IO and HTTP, flushes and closes the store */
  shutdown(): Promise<void>
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url))

/** Wires the store, the vote engine, the session and the HTTP + Socket.IO server together. */
export function createApp(config: Config, log: Logger, createSocket: SocketFactory = createBaileysSocket): App {
  const db = openDb(config.dataDir)
  const emitter = createEmitter()
  const auth = createAuthStore(db)
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
  })
  session = createSession({
    auth, chats, votes, emitter, createSocket: withLogLevel(createSocket, baileysLevel(config, log)),
    log: log.child({ module: 'session' }),
    waWebSocketUrl: config.waWsUrl,
  })
  const storeProbe = { ok: () => { try { db.prepare('SELECT 1').get(); return true } catch { return false } } }
  const dispatch = createRouter(routes, { session, polls: votes, store: storeProbe, log, metrics, qrSvg: createQrRenderer() }, {
    guard: createTokenGuard(config.apiToken),
    observe: metrics.observeHttp,
  })
  const server = createHttpServer(dispatch, WEB_ROOT)
  const io = attachSocketIo(server, {
    session, polls: votes, emitter, log: log.child({ module: 'socket.io' }),
    apiToken: config.apiToken, corsOrigins: config.corsOrigins,
  })

  return {
    server,
    session,
    emitter,
    metrics,
    async shutdown() {
      unwatch()
      session.stop()
      await io.close()
      await votes.close()
      db.close()
    },
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
