import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { Server } from 'socket.io'
import { io as connect, type Socket } from 'socket.io-client'
import { createOrderedPgAdapter } from '../../runtime/ordered-pg-adapter.ts'
import { adminQuery, pgCluster, requirePostgres } from '../store/pg-harness.ts'

/**
 * Two Socket.IO servers on one PostgreSQL database, as two pollwire processes run: a burst of
 * events emitted on one reaches the clients of both in emit order, and the local clients
 * without waiting for the database.
 */

requirePostgres()
const cluster = pgCluster()
const N = 300

interface Node { http: HttpServer; io: Server; pool: pg.Pool; url: string }

async function node(url: string): Promise<Node> {
  // Ten connections, as the server's pool: the stock adapter's notices race on them.
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  const http = createServer()
  const io = new Server(http, { adapter: createOrderedPgAdapter(pool, { tableName: 'socket_io_attachments' }) })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return { http, io, pool, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` }
}

async function client(url: string): Promise<{ socket: Socket; got: number[] }> {
  const socket = connect(url, { transports: ['websocket'] })
  const got: number[] = []
  socket.on('n', (i: number) => got.push(i))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return { socket, got }
}

const waitFor = async (what: string, ok: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const adapter = suite<{ a: Node; b: Node }>('ordered PostgreSQL adapter')

adapter.before(async (ctx) => {
  const url = await cluster.url()
  await adminQuery(url, 'CREATE TABLE IF NOT EXISTS socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)')
  ctx.a = await node(url)
  ctx.b = await node(url)
})

adapter.after(async ({ a, b }) => {
  for (const n of [a, b]) {
    if (!n) continue
    n.io.close()
    await n.pool.end()
  }
  await cluster.stop()
})

adapter('a burst reaches local and remote clients in emit order; local ones at once', async ({ a, b }) => {
  const here = await client(a.url)
  const there = await client(b.url)
  // The other process must be listening before the burst (the adapter's LISTEN is set up after start).
  await waitFor('the remote client to hear a first event', () => {
    a.io.emit('n', -1)
    return there.got.includes(-1)
  })
  // (warm-up events still on their way are told apart by their number)
  const burst = (got: number[]) => got.filter((i) => i >= 0)
  for (let i = 0; i < N; i++) a.io.emit('n', i)
  const want = Array.from({ length: N }, (_, i) => i)
  await waitFor('the local client to get the burst', () => burst(here.got).length >= N)
  await waitFor('the remote client to get the burst', () => burst(there.got).length >= N)
  assert.equal(burst(here.got), want, 'local client: emit order')
  assert.equal(burst(there.got), want, 'remote client: emit order')
  here.socket.close()
  there.socket.close()
})

adapter('a local client is not held up by the database: its event leaves before the notice returns', async ({ a }) => {
  const here = await client(a.url)
  // Every pooled connection busy (one is the adapter's own LISTEN session): a notice cannot be sent until they are free again.
  const held = await Promise.all(Array.from({ length: 9 }, () => a.pool.connect()))
  a.io.emit('n', 7)
  await waitFor('the local client to get it while the pool is busy', () => here.got.includes(7), 5_000)
  for (const c of held) c.release()
  here.socket.close()
})

adapter.run()
