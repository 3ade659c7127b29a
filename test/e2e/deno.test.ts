import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fileURLToPath } from 'node:url'
import { io } from 'socket.io-client'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { removeDir, startServer, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * The same server under Deno 2 (the npm package's binary), on the npm-installed node_modules:
 * `deno task start` answers, and with the fake WhatsApp it pairs, sends a poll and counts a
 * vote — Baileys, libsql, Socket.IO and prom-client included.
 */

const DENO = fileURLToPath(new URL('../../node_modules/deno/deno', import.meta.url))
const GROUP = '120363000000000001@g.us'

/** The server under Deno; stop() also removes its data directory. */
async function startDeno(args: string[], waWsUrl: string): Promise<ServerProcess> {
  const server = await startServer({
    waWsUrl,
    command: [DENO, ...args],
    env: { NO_COLOR: '1', LOG_LEVEL: 'info', ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}) },
    timeoutMs: 60_000,
  })
  const stop = server.stop
  return { ...server, async stop() { const code = await stop(); removeDir(server.dataDir); return code } }
}

const getJson = async (url: string) => (await fetch(url)).json() as Promise<any>

// ---

const task = suite('deno task start')

task('serves health, the dashboard, metrics and Socket.IO; exits 0 on SIGTERM', async () => {
  const server = await startDeno(['task', 'start'], 'ws://127.0.0.1:9/ws/chat')
  try {
    assert.equal(await getJson(`${server.url}/health`), { ok: true, whatsapp: 'disconnected', store: 'ok' })
    const page = await fetch(`${server.url}/`)
    assert.is(page.status, 200)
    assert.match(await page.text(), /<title>pollwire<\/title>/)
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^pollwire_http_requests_total\{/m)
    const socket = io(server.url, { transports: ['websocket'], reconnection: false })
    const status = await new Promise((resolve, reject) => {
      socket.once('client_status', resolve)
      socket.once('connect_error', reject)
    })
    socket.close()
    assert.is(status, 'disconnected')
  } finally {
    assert.is(await server.stop(), 0, 'a clean exit on SIGTERM')
  }
})

// ---

const wa = suite<{ fake: FakeWhatsApp; alice: FakeContact }>('deno: against the fake WhatsApp', {} as any)

wa.before(async (ctx) => {
  ctx.fake = await startFakeWhatsApp()
  ctx.alice = ctx.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  ctx.fake.addGroup({ id: GROUP, subject: 'Team', participants: [ctx.alice] })
})
wa.after(async (ctx) => { await ctx.fake?.close() })

wa('pairs by QR, sends a poll, counts a vote', async (ctx) => {
  const server = await startDeno(['run', '-A', '--preload', './test/e2e/fake-wa/preload.ts', 'runtime/main.ts'], ctx.fake.url)
  try {
    const qr = await waitFor('a QR', async () => (await getJson(`${server.url}/status`)).qrCode as string | null || undefined, 30_000)
    await ctx.fake.phone.scanQr(qr)
    await waitFor('ready', async () => (await getJson(`${server.url}/status`)).status === 'ready', 30_000)
    const sent = await (await fetch(`${server.url}/send-poll`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: GROUP, question: 'Deno?', options: ['Yes', 'No'] }),
    })).json() as any
    assert.is(sent.success, true, JSON.stringify(sent))
    await ctx.fake.waitForPoll(sent.pollMsgId, { timeoutMs: 15_000 })
    await ctx.alice.vote({ pollId: sent.pollMsgId, options: ['Yes'] })
    const poll = await waitFor('the vote counted', async () => {
      const p = (await getJson(`${server.url}/polls/${sent.pollMsgId}`))
      return p.results?.Yes === 1 ? p : undefined
    }, 15_000)
    assert.equal(poll.results, { Yes: 1, No: 0 })
  } finally {
    assert.is(await server.stop(), 0)
  }
})

task.run()
wa.run()
