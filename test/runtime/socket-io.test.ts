import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import { attachSocketIo, originAllowed } from '../../runtime/socket-io.ts'
import { createEmitter } from '../../contract/events.ts'
import { fakeSession, memoryPolls, samplePoll, silent } from '../fakes.ts'

const sio = suite('attachSocketIo')
let server: Server
let close: () => Promise<void>
const clients: Socket[] = []

async function start(opts: { status?: 'ready' | 'qr_pending'; token?: string; updateIntervalMs?: number } = {}) {
  const emitter = createEmitter()
  const session = fakeSession({ status: opts.status ?? 'qr_pending', qr: 'QR1', user: { id: '1@s.whatsapp.net', name: 'Me' } })
  server = createServer()
  const attached = attachSocketIo(server, { session, polls: memoryPolls({ P1: samplePoll() }), emitter, log: silent, apiToken: opts.token ?? null, corsOrigins: [], updateIntervalMs: opts.updateIntervalMs })
  close = attached.close
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { emitter, url }
}

/** Records events in arrival order. */
function client(url: string, opts: Record<string, unknown> = {}) {
  const seen: Array<[string, unknown]> = []
  const s = connect(url, { transports: ['websocket'], reconnection: false, ...opts })
  clients.push(s)
  s.onAny((event, payload) => seen.push([event, payload]))
  return { s, seen }
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

sio.after.each(async () => {
  for (const c of clients.splice(0)) c.close()
  await close()
})

sio('a new client gets client_status, qr_code, then initial_poll_data', async () => {
  const { url } = await start()
  const { seen } = client(url)
  await until(() => seen.length >= 3)
  assert.equal(seen.map(([e]) => e), ['client_status', 'qr_code', 'initial_poll_data'])
  assert.is(seen[0]![1], 'qr_pending')
  assert.is(seen[1]![1], 'QR1')
  assert.equal(seen[2]![1], { P1: samplePoll() })
})

sio('when ready: client_status, whatsapp_user, initial_poll_data', async () => {
  const { url } = await start({ status: 'ready' })
  const { seen } = client(url)
  await until(() => seen.length >= 3)
  assert.equal(seen.map(([e]) => e), ['client_status', 'whatsapp_user', 'initial_poll_data'])
  assert.equal(seen[1]![1], { id: '1@s.whatsapp.net', name: 'Me' })
})

sio('session events are forwarded under the contract names and shapes', async () => {
  const { url, emitter } = await start()
  const { s, seen } = client(url)
  await until(() => seen.length >= 3)
  await until(() => s.connected)
  emitter.emit('poll:new', 'P2', samplePoll({ question: 'New?' }))
  emitter.emit('poll:update', 'P1', samplePoll())
  emitter.emit('status', 'connecting')
  await until(() => seen.length >= 6)
  assert.equal(seen[3], ['new_poll_sent', { pollMsgId: 'P2', pollData: samplePoll({ question: 'New?' }) }])
  const p = samplePoll()
  assert.equal(seen[4], ['poll_update_to_gui', { pollMsgId: 'P1', results: p.results, question: p.question, options: p.options, voters: p.voters, selectableCount: 1 }])
  assert.equal(seen[5], ['client_status', 'disconnected'])
})

sio('a burst of updates to one poll: the first at once, the rest folded into one with the newest state', async () => {
  const { url, emitter } = await start({ status: 'ready', updateIntervalMs: 100 })
  const { s, seen } = client(url)
  await until(() => seen.length >= 3 && s.connected)
  const updates = () => seen.filter(([e]) => e === 'poll_update_to_gui').map(([, p]) => p as { pollMsgId: string; results: Record<string, number> })
  for (let n = 1; n <= 20; n++) emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: n, Blue: 0 } }))
  emitter.emit('poll:update', 'P2', samplePoll({ results: { Red: 0, Blue: 1 } }))
  await until(() => updates().length >= 2)
  assert.equal(updates().map((u) => [u.pollMsgId, u.results.Red]), [['P1', 1], ['P2', 0]], 'the first change of each poll is not held back')
  await until(() => updates().length >= 3)
  assert.equal(updates()[2], { ...updates()[2]!, pollMsgId: 'P1', results: { Red: 20, Blue: 0 } }, 'then one update with the newest state')
  await new Promise((r) => setTimeout(r, 250))
  assert.is(updates().length, 3, 'nothing more once the poll is quiet')
  emitter.emit('poll:update', 'P1', samplePoll({ results: { Red: 21, Blue: 0 } }))
  await until(() => updates().length >= 4)
  assert.is(updates()[3]!.results.Red, 21, 'a quiet poll updates at once again')
})

sio('with API_TOKEN, a connection needs auth.token', async () => {
  const { url } = await start({ token: 'tok-tok-tok-tok-tok' })
  const bad = client(url, { auth: { token: 'nope' } })
  const err = await new Promise<Error>((r) => bad.s.on('connect_error', r))
  assert.match(err.message, /unauthorized/)
  const good = client(url, { auth: { token: 'tok-tok-tok-tok-tok' } })
  await until(() => good.seen.length >= 3)
})

sio('foreign browser origins are refused', async () => {
  const { url } = await start()
  const foreign = client(url, { extraHeaders: { origin: 'https://evil.example' }, transports: ['polling'] })
  await new Promise<Error>((r) => foreign.s.on('connect_error', r))
  assert.is(foreign.seen.length, 0)
})

sio.run()

const origin = suite('originAllowed')
origin('same-origin and listed origins only; localhost on another port is another origin', () => {
  assert.ok(originAllowed(undefined, 'x', []))
  assert.ok(originAllowed('http://pollwire.lan:3000', 'pollwire.lan:3000', []))
  assert.ok(originAllowed('http://localhost:3000', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://localhost:5173', 'pollwire.lan:3000', []))
  assert.not.ok(originAllowed('http://localhost:5173', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://127.0.0.1:8080', undefined, []))
  assert.ok(originAllowed('https://ok.example', undefined, ['https://ok.example']))
  assert.not.ok(originAllowed('https://evil.example', 'pollwire.lan:3000', []))
  assert.not.ok(originAllowed('null', undefined, []))
})
origin.run()
