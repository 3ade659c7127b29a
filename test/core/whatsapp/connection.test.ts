import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createEmitter } from '../../../contract/events.ts'
import { createIdentity } from '../../../core/identity.ts'
import { createChatList } from '../../../core/whatsapp/chats.ts'
import { createConnection, type Timers } from '../../../core/whatsapp/connection.ts'
import { createMemoryStore } from '../../../store/memory/index.ts'
import { silent } from '../../fakes.ts'
import { fakeSocketFactory, recordingSink } from './fake-socket.ts'

const test = suite('createConnection')

/** Lets the connection read its credentials (async) and open the socket. */
const flush = () => new Promise((resolve) => setImmediate(resolve))
const registered = async (auth: { load(): Promise<{ creds: { me?: unknown } }> }) => !!(await auth.load()).creds.me

function setup() {
  const store = createMemoryStore().account('default')
  const auth = store.auth
  const identity = createIdentity({ lidMapping: auth, log: silent })
  const chats = createChatList({ table: store.chats, chatId: identity.chatId, log: silent })
  const votes = recordingSink()
  const emitter = createEmitter()
  const sockets = fakeSocketFactory()
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = []
  const fakeTimers: Timers = {
    setTimeout: (fn, ms) => { const t = { fn, ms, cleared: false }; timers.push(t); return t },
    clearTimeout: (h) => { (h as { cleared: boolean }).cleared = true },
  }
  const events: string[] = []
  emitter.on('status', (s) => events.push(`status:${s}`))
  emitter.on('qr', (q) => events.push(`qr:${q}`))
  emitter.on('user', (u) => events.push(`user:${u.id}`))
  const session = createConnection({
    auth, chats, votes, identity, emitter, log: silent, createSocket: sockets.factory, timers: fakeTimers,
    backoff: { duration: () => 1000, reset() {}, attempts: 0 },
  })
  const pending = () => timers.filter((t) => !t.cleared)
  return { auth, chats, votes, session, sockets, timers, pending, events }
}

test('connecting → qr_pending → ready, with the user and the QR', async () => {
  const { session, sockets, events } = setup()
  session.start()
  await flush()
  assert.is(session.status(), 'connecting')
  sockets.last().emit('connection.update', { qr: 'ref,n,i,a,p' })
  assert.is(session.status(), 'qr_pending')
  assert.is(session.qr(), 'ref,n,i,a,p')
  sockets.last().open()
  assert.is(session.status(), 'ready')
  assert.is(session.qr(), null)
  assert.equal(session.user(), { id: '15550000001:2@s.whatsapp.net', name: 'Me', lid: '900000000000001:2@lid' })
  assert.equal(events, ['status:connecting', 'status:qr_pending', 'qr:ref,n,i,a,p', 'status:ready', 'user:15550000001:2@s.whatsapp.net'])
})

test('515 after pairing opens a new socket at once', async () => {
  const { session, sockets, pending } = setup()
  session.start()
  await flush()
  sockets.last().close(515)
  await flush()
  assert.is(sockets.sockets.length, 2)
  assert.is(pending().length, 0)
  assert.is(sockets.sockets[0]!.listeners(), 0)
})

test('a dropped connection reconnects after the backoff delay, not at once', async () => {
  const { session, sockets, pending } = setup()
  session.start()
  await flush()
  sockets.last().open()
  sockets.last().close(428)
  assert.is(session.status(), 'disconnected')
  assert.is(sockets.sockets.length, 1)
  assert.is(pending().length, 1)
  assert.is(pending()[0]!.ms, 1000)
  pending()[0]!.fn()
  await flush()
  assert.is(sockets.sockets.length, 2)
  assert.is(session.status(), 'connecting')
})

test('401 clears credentials, reports logged_out and starts a fresh pairing', async () => {
  const { session, sockets, auth, events } = setup()
  const creds = (await auth.load()).creds
  creds.me = { id: '15550000001:2@s.whatsapp.net' }
  await auth.saveCreds(creds)
  assert.ok(await registered(auth))
  session.start()
  await flush()
  sockets.last().open()
  sockets.last().close(401)
  await flush()
  await flush()
  assert.not.ok(await registered(auth))
  assert.is(session.status(), 'logged_out')
  assert.is(sockets.sockets.length, 2)
  sockets.last().emit('connection.update', { qr: 'fresh' })
  assert.is(session.status(), 'qr_pending')
  assert.ok(events.includes('status:logged_out'))
})

test('440 (replaced) stops without reconnecting', async () => {
  const { session, sockets, pending } = setup()
  session.start()
  await flush()
  sockets.last().open()
  sockets.last().close(440)
  assert.is(session.status(), 'disconnected')
  assert.is(sockets.sockets.length, 1)
  assert.is(pending().length, 0)
})

test('logout unlinks, clears credentials, and pairs afresh without a reconnect loop', async () => {
  const { session, sockets, auth, pending } = setup()
  await auth.saveCreds({ ...(await auth.load()).creds, me: { id: '1@s.whatsapp.net' } })
  session.start()
  await flush()
  sockets.last().open()
  await session.logout()
  await flush()
  assert.is(sockets.sockets[0]!.loggedOut, 1)
  assert.not.ok(await registered(auth))
  assert.is(session.status(), 'logged_out')
  assert.is(sockets.sockets.length, 2, 'exactly one fresh socket')
  assert.is(pending().length, 0)
})

test('logout without a fresh pairing (an account deleted) unlinks, clears, and opens nothing', async () => {
  const { session, sockets, auth, pending } = setup()
  await auth.saveCreds({ ...(await auth.load()).creds, me: { id: '1@s.whatsapp.net' } })
  session.start()
  await flush()
  sockets.last().open()
  await session.logout({ pairAgain: false })
  await flush()
  assert.is(sockets.sockets[0]!.loggedOut, 1)
  assert.not.ok(await registered(auth))
  assert.is(session.status(), 'logged_out')
  assert.is(sockets.sockets.length, 1, 'no new socket')
  assert.is(pending().length, 0)
})

test('stop ends the socket and nothing reconnects', async () => {
  const { session, sockets, pending } = setup()
  session.start()
  await flush()
  sockets.last().open()
  session.stop()
  assert.is(sockets.sockets[0]!.ended, 1)
  assert.is(session.status(), 'disconnected')
  sockets.sockets[0]!.close(428)
  assert.is(sockets.sockets.length, 1)
  assert.is(pending().length, 0)
})

test('sendPoll stores first, sends with the stored id and secret, then marks sent', async () => {
  const { session, sockets, votes } = setup()
  session.start()
  await flush()
  sockets.last().open()
  const res = await session.sendPoll({ chatId: '1@g.us', question: 'Q?', options: ['a', 'b'], selectableCount: 1 })
  assert.equal(res, { pollMsgId: 'P1' })
  const sent = sockets.last().sent[0]!
  assert.is(sent.options?.messageId, 'P1')
  assert.equal((sent.content as any).poll, { name: 'Q?', values: ['a', 'b'], selectableCount: 1, messageSecret: new Uint8Array(32).fill(7) })
  assert.equal(votes.calls.sent, ['P1'])
})

test('sendPoll marks the poll failed when WhatsApp refuses, and refuses when not ready', async () => {
  const { session, sockets, votes } = setup()
  session.start()
  await flush()
  try { await session.sendPoll({ chatId: '1@g.us', question: 'Q?', options: ['a'], selectableCount: 1 }); assert.unreachable() } catch (e) { assert.match((e as Error).message, /not connected/) }
  assert.is(votes.calls.prepared.length, 0)
  sockets.last().open()
  sockets.last().sendError = new Error('rejected')
  try { await session.sendPoll({ chatId: '1@g.us', question: 'Q?', options: ['a'], selectableCount: 1 }); assert.unreachable() } catch {}
  assert.equal(votes.calls.failed, ['P1:rejected'])
})

test('groups are fetched on open; votes and poll creations go to the engine', async () => {
  const { session, sockets, votes, chats } = setup()
  session.start()
  await flush()
  sockets.last().groups = { '120363000000000001@g.us': { id: '120363000000000001@g.us', subject: 'Team' } }
  sockets.last().open()
  await new Promise((r) => setImmediate(r))
  assert.equal(chats.list(), [{ id: '120363000000000001@g.us', name: 'Team', isGroup: true }])
  sockets.last().emit('messages.upsert', {
    type: 'append',
    messages: [{
      key: { id: 'V1', remoteJid: '80000000001@lid', remoteJidAlt: '15551110001@s.whatsapp.net', fromMe: false },
      pushName: 'Alice',
      message: { pollUpdateMessage: { pollCreationMessageKey: { id: 'P9' }, vote: { encPayload: new Uint8Array(20), encIv: new Uint8Array(12) }, senderTimestampMs: 5 } },
    }],
  })
  assert.equal(votes.calls.votes, ['append:P9:V1'])
  assert.ok(chats.list().some((c) => c.id === '15551110001@s.whatsapp.net' && c.name === 'Alice'))
  assert.ok(votes.calls.retries >= 1, 'pending votes retried on open')
})

test.run()
