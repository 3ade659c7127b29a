import type { EventEmitter } from 'node:events'
import type { Namespace, Socket } from 'socket.io'

/**
 * The local clients of one namespace, each written to as fast as its own transport takes it.
 *
 * `emit` goes to every client at once (rare events: status, QR, a new poll, a whole list).
 * `fold` carries the newest value under a key (one poll's update, one campaign's result): a
 * client whose transport has nothing buffered gets it at once; a client with a send still
 * pending gets, once that send completes, only the newest value of each key it missed. So a
 * fast client sees every change without delay, and one that does not read costs at most one
 * held value per key here, never a growing queue in engine.io (issue #7's flood: the server
 * buffered what slow clients could not take until memory grew by hundreds of MB).
 *
 * Only this process's clients: events reach other processes' clients through them (broadcaster.ts).
 */
export interface ClientOutlet {
  emit(event: string, ...args: unknown[]): void
  fold(event: string, key: string, value: unknown): void
  /** forgets the values held for `event` (a whole list that supersedes them was emitted) */
  drop(event: string): void
  close(): void
}

/** What engine.io exposes of a connection's transport state (`writeBuffer` is private in its types). */
interface Conn extends EventEmitter {
  readyState: string
  transport: EventEmitter & { writable: boolean }
  writeBuffer: unknown[]
  flush(): void
}

interface Client {
  socket: Socket
  /** event + key → [event, newest value], in the order first held */
  held: Map<string, [string, unknown]>
  untrack(): void
}

/** Nothing buffered in engine.io and no send in flight on the transport. */
const idle = (conn: Conn) => conn.readyState === 'open' && conn.transport.writable && conn.writeBuffer.length === 0

/** `fold: false`: every change to every client at once, whatever it has buffered (the bench's comparison). */
export function clientOutlet(nsp: Namespace, opts: { fold?: boolean } = {}): ClientOutlet {
  const folding = opts.fold ?? true
  const clients = new Map<string, Client>()

  /** Everything `c` holds, as one write: queued while the transport is marked busy, then flushed together. */
  const release = (c: Client) => {
    if (!c.held.size) return
    const held = [...c.held.values()]
    c.held.clear()
    const conn = c.socket.conn as unknown as Conn
    // Emitted one by one on an idle transport, the first would go alone and the rest wait a
    // whole write (one event-loop turn, longer behind a synchronous commit) for the next 'ready'.
    const transport = conn.transport
    transport.writable = false
    try {
      for (const [event, value] of held) c.socket.emit(event, value)
    } finally {
      transport.writable = true
    }
    conn.flush()
  }

  const track = (socket: Socket) => {
    if (clients.has(socket.id)) return
    const conn = socket.conn as unknown as Conn
    let transport = conn.transport
    // A transport emits 'ready' when it can take the next send: a WebSocket once its last write
    // completed, long-polling when the client's next GET arrives. engine.io's own listener
    // flushed its buffer first; what is held here goes out only if that left the transport idle.
    const wake = () => { if (idle(conn)) release(client) }
    const onUpgrade = (next: Conn['transport']) => {
      transport.off('ready', wake)
      transport = next
      transport.on('ready', wake)
      wake()
    }
    const untrack = () => {
      transport.off('ready', wake)
      conn.off('upgrade', onUpgrade)
      socket.off('disconnect', untrack)
      clients.delete(socket.id)
    }
    const client: Client = { socket, held: new Map(), untrack }
    transport.on('ready', wake)
    conn.on('upgrade', onUpgrade)
    socket.once('disconnect', untrack)
    clients.set(socket.id, client)
  }

  for (const socket of nsp.sockets.values()) track(socket)
  nsp.on('connection', track)

  return {
    emit(event, ...args) {
      nsp.local.emit(event, ...args)
    },
    fold(event, key, value) {
      if (!folding) return void nsp.local.emit(event, value)
      const busy: string[] = []
      for (const c of clients.values()) {
        if (idle(c.socket.conn as unknown as Conn) && !c.held.size) continue
        busy.push(c.socket.id)
        c.held.set(`${event}\u0000${key}`, [event, value])
        // Idle again before its 'ready' was seen here: what it held (this value included) goes now.
        if (idle(c.socket.conn as unknown as Conn)) release(c)
      }
      // One encoding for every idle client; each socket is in the room of its own id.
      if (busy.length === 0) nsp.local.emit(event, value)
      else if (busy.length < nsp.sockets.size) nsp.local.except(busy).emit(event, value)
    },
    drop(event) {
      for (const c of clients.values()) for (const [k, [e]] of c.held) if (e === event) c.held.delete(k)
    },
    close() {
      nsp.off('connection', track)
      for (const c of [...clients.values()]) c.untrack()
    },
  }
}
