import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { removeDir, startServer, type ServerProcess } from './harness/server-process.ts'

/** WhatsApp out of reach (nothing listens on port 9): the server stays up and backs off. */
const down = suite<{ server: ServerProcess }>('WhatsApp unreachable', {} as { server: ServerProcess })

down.before(async (ctx) => {
  ctx.server = await startServer({ waWsUrl: 'ws://127.0.0.1:9/ws/chat', env: { LOG_LEVEL: 'info' } })
})

down.after(async (ctx) => {
  await ctx.server?.stop()
  if (ctx.server) removeDir(ctx.server.dataDir)
})

down('answers disconnected, refuses polls with 503, and backs off instead of spinning', async ({ server }) => {
  const start = Date.now()
  await new Promise((r) => setTimeout(r, 4000))
  const status = await server.get('/status')
  assert.is(status.status, 200)
  assert.is(status.body.status, 'disconnected')
  const send = await server.post('/send-poll', { chatId: '15551234567@s.whatsapp.net', question: 'Q?', options: ['A', 'B'] })
  assert.is(send.status, 503)
  assert.is(send.body.success, false)
  assert.is((await server.get('/health')).status, 200)
  const attempts = server.logs.filter((l) => l.includes('connection closed; reconnecting')).length
  const seconds = (Date.now() - start) / 1000
  // Backoff 1 s doubling: at most ~4 attempts in 4 s; a spinning client would make hundreds.
  assert.ok(attempts >= 1 && attempts <= 5, `${attempts} reconnect attempts in ${seconds.toFixed(1)} s`)
  assert.ok(server.logs.length < 60, `${server.logs.length} log lines`)
})

down.run()
