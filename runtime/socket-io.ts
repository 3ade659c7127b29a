import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { MAX_BODY_BYTES } from '../contract/limits.ts'
import { broadcast, type Broadcast } from './broadcaster.ts'
import { hostAllowed, MISDIRECTED, originAllowed, refusalBody, type HostRule } from './caller-guard.ts'
import { tokenMatches } from './token-guard.ts'

export { originAllowed }

/** Socket.IO on the HTTP server: who may connect, and the default namespace's account (the GUI's). */
export interface SocketIoDeps extends Broadcast {
  log: Logger
  apiToken: string | null
  corsOrigins: string[]
  /** the Host check (runtime/caller-guard.ts); absent or null = none (API_TOKEN set, no ALLOWED_HOSTS) */
  hosts?: HostRule | null
  /** see broadcaster.ts */
  updateIntervalMs?: number
}

/**
 * 421 before engine.io reads anything. For a WebSocket upgrade engine.io hands middlewares a
 * stand-in whose writeHead/end only drop the connection, so the answer goes on its raw socket.
 */
function misdirected(res: ServerResponse): void {
  const body = refusalBody(MISDIRECTED)
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }
  if (res instanceof ServerResponse) {
    res.writeHead(MISDIRECTED.status, headers)
    res.end(body)
    return
  }
  const socket = (res as { socket?: Duplex | null }).socket
  if (!socket?.writable) return void socket?.destroy()
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  socket.end(`HTTP/1.1 421 Misdirected Request\r\nconnection: close\r\n${head}\r\n${body}`)
}


/** Socket.IO on the HTTP server: forwards session events under the GUI's event names. */
export function attachSocketIo(http: HttpServer, deps: SocketIoDeps): { close(): Promise<void> } {
  const { session, polls, emitter, log, apiToken, corsOrigins } = deps
  const hosts = deps.hosts ?? null
  const hostOk = (host: string | undefined) => hosts === null || hostAllowed(host, hosts)
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: MAX_BODY_BYTES,
    // Only listed origins get a CORS grant; the own origin needs none, and no other is echoed.
    cors: { origin: (origin, cb) => cb(null, origin !== undefined && corsOrigins.includes(origin)), credentials: false },
    allowRequest: (req: IncomingMessage, cb) => {
      if (!hostOk(req.headers.host)) return cb('host not allowed', false)
      if (!originAllowed(req.headers.origin, req.headers.host, corsOrigins)) return cb('origin not allowed', false)
      cb(null, true)
    },
  })
  // Before the handshake and every later request (polling and WebSocket upgrade alike).
  io.engine.use((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    if (hostOk(req.headers.host)) return next()
    misdirected(res)
  })

  if (apiToken) {
    io.use((socket, next) => {
      const given = (socket.handshake.auth as { token?: unknown } | undefined)?.token
      if (tokenMatches(typeof given === 'string' ? given : null, apiToken)) return next()
      next(new Error('unauthorized: missing or wrong API token'))
    })
  }

  const stop = broadcast(io.of('/'), { session, polls, emitter }, { updateIntervalMs: deps.updateIntervalMs })
  log.debug('socket.io attached')

  return {
    close: () => {
      stop()
      return new Promise<void>((resolve) => { io.close(() => resolve()) })
    },
  }
}
