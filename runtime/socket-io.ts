import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { publicStatus } from '../handlers/lib/public-status.ts'
import type { Emitter } from '../session/events.ts'
import type { PollStore, PollView } from '../session/poll-types.ts'
import type { Session } from './context.ts'
import { hostAllowed, MISDIRECTED, originAllowed, refusalBody, type HostRule } from './caller-guard.ts'
import { tokenMatches } from './token-guard.ts'

export { originAllowed }

export interface SocketIoDeps {
  session: Session
  polls: PollStore
  emitter: Emitter
  log: Logger
  apiToken: string | null
  corsOrigins: string[]
  /** the Host check (runtime/caller-guard.ts); absent or null = none (API_TOKEN set, no ALLOWED_HOSTS) */
  hosts?: HostRule | null
  /**
   * At most one poll_update_to_gui per poll per this many ms (default 250; 0 = every change).
   * The first change goes out at once, later ones within the window are folded into one that
   * carries the newest state when it ends: every update is complete, so none is lost.
   */
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

export const pollUpdatePayload = (pollMsgId: string, p: PollView) => ({
  pollMsgId,
  results: p.results,
  question: p.question,
  options: p.options,
  voters: p.voters,
  selectableCount: p.selectableCount,
})

/** Socket.IO on the HTTP server: forwards session events under the GUI's event names. */
export function attachSocketIo(http: HttpServer, deps: SocketIoDeps): { close(): Promise<void> } {
  const { session, polls, emitter, log, apiToken, corsOrigins } = deps
  const hosts = deps.hosts ?? null
  const hostOk = (host: string | undefined) => hosts === null || hostAllowed(host, hosts)
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
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

  io.on('connection', (socket) => {
    const state = publicStatus(session.status())
    socket.emit('client_status', state)
    const user = session.user()
    if (state === 'ready' && user) socket.emit('whatsapp_user', user)
    const qr = session.qr()
    if (state === 'qr_pending' && qr) socket.emit('qr_code', qr)
    socket.emit('initial_poll_data', polls.all())
  })

  // Under a vote flood every group commit changes the touched polls; sending each change to
  // every client (each with the poll's whole voter list) outran the clients, and the server
  // buffered what they could not take until memory grew by hundreds of MB (test/load, issue #7).
  const interval = deps.updateIntervalMs ?? 250
  const windows = new Map<string, { timer: ReturnType<typeof setTimeout>; pending?: PollView }>()
  const sendUpdate = (id: string, p: PollView) => io.emit('poll_update_to_gui', pollUpdatePayload(id, p))
  const openWindow = (id: string) => {
    const timer = setTimeout(() => {
      const w = windows.get(id)
      windows.delete(id)
      if (w?.pending) { sendUpdate(id, w.pending); openWindow(id) }
    }, interval)
    windows.set(id, { timer })
  }
  // The whole list supersedes whatever a window still holds.
  const dropWindows = () => {
    for (const w of windows.values()) clearTimeout(w.timer)
    windows.clear()
  }
  const onUpdate = (id: string, p: PollView) => {
    if (interval <= 0) return sendUpdate(id, p)
    const w = windows.get(id)
    if (w) { w.pending = p; return }
    sendUpdate(id, p)
    openWindow(id)
  }

  const offs = [
    emitter.on('status', (s) => io.emit('client_status', publicStatus(s))),
    emitter.on('qr', (qr) => io.emit('qr_code', qr)),
    emitter.on('user', (u) => io.emit('whatsapp_user', u)),
    emitter.on('poll:new', (pollMsgId, pollData) => io.emit('new_poll_sent', { pollMsgId, pollData })),
    emitter.on('poll:update', onUpdate),
    emitter.on('polls:reset', () => { dropWindows(); io.emit('initial_poll_data', polls.all()) }),
  ]
  log.debug('socket.io attached')

  return {
    close: () => {
      for (const off of offs) off()
      dropWindows()
      return new Promise<void>((resolve) => { io.close(() => resolve()) })
    },
  }
}
