import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Logger } from 'pino'
import { Server } from 'socket.io'
import { publicStatus } from '../handlers/lib/public-status.ts'
import type { Emitter } from '../session/events.ts'
import type { PollStore, PollView } from '../session/poll-types.ts'
import type { Session } from './context.ts'
import { tokenMatches } from './token-guard.ts'

export interface SocketIoDeps {
  session: Session
  polls: PollStore
  emitter: Emitter
  log: Logger
  apiToken: string | null
  corsOrigins: string[]
}

/** Same-origin, localhost on any port, or listed; a request without Origin is not a browser's. */
export function originAllowed(origin: string | undefined, host: string | undefined, extra: string[]): boolean {
  if (!origin) return true
  let url: URL
  try { url = new URL(origin) } catch { return false }
  if (host && url.host === host) return true
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return true
  return extra.includes(origin)
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
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: (origin, cb) => cb(null, originAllowed(origin, undefined, corsOrigins)), credentials: false },
    allowRequest: (req: IncomingMessage, cb) => cb(null, originAllowed(req.headers.origin, req.headers.host, corsOrigins)),
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

  const offs = [
    emitter.on('status', (s) => io.emit('client_status', publicStatus(s))),
    emitter.on('qr', (qr) => io.emit('qr_code', qr)),
    emitter.on('user', (u) => io.emit('whatsapp_user', u)),
    emitter.on('poll:new', (pollMsgId, pollData) => io.emit('new_poll_sent', { pollMsgId, pollData })),
    emitter.on('poll:update', (id, p) => io.emit('poll_update_to_gui', pollUpdatePayload(id, p))),
    emitter.on('polls:reset', () => io.emit('initial_poll_data', polls.all())),
  ]
  log.debug('socket.io attached')

  return {
    close: () => {
      for (const off of offs) off()
      return new Promise<void>((resolve) => { io.close(() => resolve()) })
    },
  }
}
