import { createAdapter } from '@socket.io/postgres-adapter'
import type { Pool } from 'pg'
import { Adapter, MessageType, type BroadcastOptions, type ClusterMessage } from 'socket.io-adapter'
import type { Namespace } from 'socket.io'

type PostgresAdapter = ReturnType<ReturnType<typeof createAdapter>>
type Packet = Parameters<Adapter['broadcast']>[0]

/** The cluster adapter's protected members this module replaces (socket.io-adapter 2.5). */
interface Internals {
  doPublish(message: ClusterMessage): Promise<string>
  publish(message: { type: MessageType.BROADCAST; data: { packet: Packet; opts: { rooms: string[]; except: string[]; flags: BroadcastOptions['flags'] } } }): void
  broadcast(packet: Packet, opts: BroadcastOptions): Promise<void>
}

/**
 * `@socket.io/postgres-adapter`, with events kept in the order they were emitted.
 *
 * As shipped, every broadcast first awaits its own `pg_notify` on a pooled connection and only
 * then reaches the local clients. Two events emitted back to back (`client_status` `connecting`
 * then `ready`, or a poll update then a newer one) travel on two connections, and whichever
 * query returns first is delivered first: a client could be left showing the older state for
 * good, and every local client waits a database round trip. Here the local clients get each
 * event at once, in emit order, as with one process; the notices to the other processes go out
 * one after another, so they arrive in that order too.
 */
export function createOrderedPgAdapter(pool: Pool, opts: Parameters<typeof createAdapter>[1]): (nsp: Namespace) => PostgresAdapter {
  const make = createAdapter(pool, opts)
  // Socket.IO calls it with `new`: a plain function returning the object, as createAdapter's own.
  return function ordered(nsp: Namespace) {
    const adapter = make(nsp)
    const inner = adapter as unknown as Internals
    const publishNow = inner.doPublish.bind(adapter)
    let last: Promise<unknown> = Promise.resolve()
    inner.doPublish = (message) => {
      const sent = last.then(() => publishNow(message))
      last = sent.catch(() => undefined)
      return sent
    }
    inner.broadcast = async (packet, o) => {
      if (!o.flags?.local) {
        // The adapter's own encoding of the options (sets are not JSON).
        inner.publish({ type: MessageType.BROADCAST, data: { packet, opts: { rooms: [...o.rooms], except: [...(o.except ?? [])], flags: o.flags } } })
      }
      Adapter.prototype.broadcast.call(adapter, packet, o)
    }
    return adapter
  }
}
