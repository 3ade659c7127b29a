import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { Server, type Namespace, type Socket } from 'socket.io'
import { MAX_BODY_BYTES } from '../contract/limits.ts'
import { broadcast, receiveRelayed, type Broadcast } from './broadcaster.ts'
import { clientOutlet, type ClientOutlet } from './client-fold.ts'
import { hostAllowed, MISDIRECTED, originAllowed, refusalBody, type HostRule } from './caller-guard.ts'
import { tokenMatches } from './token-guard.ts'

export { originAllowed }

/** The accounts that get a namespace `/accounts/<id>`: those open now, and each one added or removed later. */
export interface AccountNamespaces {
  readonly accounts: ReadonlyMap<string, Broadcast>
  /** `replaced`: the account of that id is another object now (several processes: owned ↔ followed) */
  onChange(fn: (change: { added: Broadcast & { id: string } } | { removed: string } | { replaced: Broadcast & { id: string }; announce: boolean }) => void): () => void
}

/** Socket.IO on the HTTP server: who may connect, and the default namespace's account (the GUI's). */
export interface SocketIoDeps extends Broadcast {
  /** namespace `/accounts/<id>` per account, carrying the same events as the default namespace */
  accounts?: AccountNamespaces
  log: Logger
  apiToken: string | null
  corsOrigins: string[]
  /** the Host check (runtime/caller-guard.ts); absent or null = none (API_TOKEN set, no ALLOWED_HOSTS) */
  hosts?: HostRule | null
  /** false: every poll and campaign update to every client at once, whatever it has buffered (broadcaster.ts; the bench's comparison) */
  foldUpdates?: boolean
  /** several processes: events reach the clients of every process (@socket.io/postgres-adapter) */
  adapter?: Parameters<Server['adapter']>[0]
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
export function attachSocketIo(http: HttpServer, deps: SocketIoDeps): { io: Server; close(): Promise<void> } {
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

  if (deps.adapter) io.adapter(deps.adapter)
  // Host, Origin and CORS (above) are the engine's, so they hold for every namespace; the
  // token is checked per namespace: io.use covers the default one only.
  const authorize = apiToken
    ? (socket: Socket, next: (err?: Error) => void) => {
      const given = (socket.handshake.auth as { token?: unknown } | undefined)?.token
      if (tokenMatches(typeof given === 'string' ? given : null, apiToken)) return next()
      next(new Error('unauthorized: missing or wrong API token'))
    }
    : null
  if (authorize) io.use(authorize)

  // With the adapter, each process passes an account's events to the clients it holds itself.
  const opts = { relay: !!deps.adapter }
  // One outlet per namespace for its whole life (the account behind it may be rebound), and with
  // the adapter what other processes relay for it.
  const outlet = (nsp: Namespace): ClientOutlet => {
    const out = clientOutlet(nsp, { fold: deps.foldUpdates })
    if (!deps.adapter) return out
    const unrelay = receiveRelayed(nsp, out)
    return { ...out, close: () => { unrelay(); out.close() } }
  }
  const defaultOut = outlet(io.of('/'))
  let defaultNsp = broadcast(io.of('/'), defaultOut, { session, polls, emitter }, opts)

  const namespaces = new Map<string, { nsp: Namespace; out: ClientOutlet; b: ReturnType<typeof broadcast> }>()
  const serve = (id: string, account: Broadcast) => {
    const nsp = io.of(`/accounts/${id}`)
    if (authorize) nsp.use(authorize)
    const out = outlet(nsp)
    namespaces.set(id, { nsp, out, b: broadcast(nsp, out, account, opts) })
  }
  // Another object for the same account: its events from now on. When it changed owner, every
  // client is told the whole state again: what the old one had not sent yet is gone with it.
  const rebind = (id: string, account: Broadcast, again: boolean) => {
    if (id === 'default') {
      defaultNsp.stop()
      defaultNsp = broadcast(io.of('/'), defaultOut, account, opts)
      if (again) defaultNsp.announce()
    }
    const n = namespaces.get(id)
    if (!n) return
    n.b.stop()
    n.b = broadcast(n.nsp, n.out, account, opts)
    if (again) n.b.announce()
  }
  // A removed account's clients are cut and its namespace forgotten: connecting again is refused.
  const drop = (id: string) => {
    const n = namespaces.get(id)
    if (!n) return
    namespaces.delete(id)
    n.b.stop()
    n.out.close()
    n.nsp.disconnectSockets(true)
    n.nsp.removeAllListeners()
    // The PostgreSQL adapter releases its LISTEN connection once every namespace's adapter closed.
    void n.nsp.adapter.close()
    io._nsps.delete(n.nsp.name)
  }
  for (const [id, account] of deps.accounts?.accounts ?? []) serve(id, account)
  const unwatch = deps.accounts?.onChange((change) => {
    if ('added' in change) serve(change.added.id, change.added)
    else if ('replaced' in change) rebind(change.replaced.id, change.replaced, change.announce)
    else drop(change.removed)
  })
  log.debug('socket.io attached')

  return {
    io,
    close: () => {
      defaultNsp.stop()
      defaultOut.close()
      unwatch?.()
      for (const n of namespaces.values()) { n.b.stop(); n.out.close() }
      return new Promise<void>((resolve) => { io.close(() => resolve()) })
    },
  }
}
