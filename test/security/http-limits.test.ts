import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { request } from 'node:http'
import { startApp, type Running } from './app-under-test.ts'

/**
 * Limits and CORS over real HTTP against the real app (issue #7): a body over 64 KiB is a 413
 * whether or not it declares its length, JSON nested deeper than 32 levels is a 400, and
 * neither Socket.IO nor the API ever answers a foreign origin with `*` or with its own name.
 */

const LIMIT = 64 * 1024
const GOOD_POLL = { chatId: '15551110001@s.whatsapp.net', question: 'Lunch?', options: ['Pizza', 'Sushi'] }

/** A raw HTTP request (node:http), so the body can be streamed without a Content-Length. */
function raw(url: string, opts: { method: string; path: string; headers?: Record<string, string>; chunks?: Buffer[] }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(`${url}${opts.path}`, { method: opts.method, headers: opts.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    // The server may answer 413 and close before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
    for (const c of opts.chunks ?? []) req.write(c)
    req.end()
  })
}

interface World { app: Running }
const limits = suite<World>('request limits over real HTTP', {} as World)

limits.before(async (w) => {
  w.app = await startApp()
  w.app.open()
})
limits.after(async (w) => { await w.app?.close() })

limits('a body one byte over 64 KiB with its Content-Length is refused 413 before the handler', async (w) => {
  const body = JSON.stringify({ ...GOOD_POLL, pad: 'x'.repeat(LIMIT) }).slice(0, LIMIT + 1)
  assert.is(Buffer.byteLength(body), LIMIT + 1)
  const res = await fetch(`${w.app.url}/send-poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  assert.is(res.status, 413)
  const json = await res.json()
  assert.is(json.success, false)
  assert.match(json.message, /exceeds 65536 bytes/)
  assert.is(w.app.sockets.last().sent.length, 0, 'nothing was sent')
})

limits('a valid poll padded past 64 KiB and streamed without Content-Length is refused 413', async (w) => {
  const body = Buffer.from(JSON.stringify({ ...GOOD_POLL, pad: 'x'.repeat(LIMIT) }))
  const chunks = Array.from({ length: Math.ceil(body.length / 8192) }, (_, i) => body.subarray(i * 8192, (i + 1) * 8192))
  const res = await raw(w.app.url, { method: 'POST', path: '/send-poll', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks })
  assert.is(res.status, 413, res.body)
  assert.is(JSON.parse(res.body).success, false)
  assert.is(w.app.sockets.last().sent.length, 0, 'nothing was sent')
})

limits('a body of exactly 64 KiB is read (the limit is not off by one)', async (w) => {
  const base = JSON.stringify({ ...GOOD_POLL, pad: '' })
  const body = JSON.stringify({ ...GOOD_POLL, pad: 'x'.repeat(LIMIT - Buffer.byteLength(base)) })
  assert.is(Buffer.byteLength(body), LIMIT)
  const res = await fetch(`${w.app.url}/send-poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  assert.is(res.status, 200, await res.text())
})

/** A send-poll body whose `extra` field nests `levels` arrays deep, written as text (no recursion). */
const deepPoll = (levels: number) => `${JSON.stringify(GOOD_POLL).slice(0, -1)},"extra":${'['.repeat(levels)}"leaf"${']'.repeat(levels)}}`

limits('a valid poll carrying JSON nested deeper than 32 levels is refused 400', async (w) => {
  const sent = w.app.sockets.last().sent.length
  for (const levels of [33, 1000, 30_000]) {
    const res = await fetch(`${w.app.url}/send-poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deepPoll(levels) })
    assert.is(res.status, 400, `${levels} levels`)
    const json = await res.json()
    assert.is(json.success, false)
    assert.match(json.message, /nests deeper than 32 levels/)
  }
  assert.is(w.app.sockets.last().sent.length, sent, 'nothing was sent')
  assert.is((await fetch(`${w.app.url}/health`)).status, 200, 'the server is still up')
})

limits('nesting up to the limit is accepted', async (w) => {
  const res = await fetch(`${w.app.url}/send-poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deepPoll(30) })
  assert.is(res.status, 200, await res.text())
})

limits.run()

// ---

const cors = suite<World>('CORS over real HTTP', {} as World)
const FOREIGN = 'https://evil.example'
const LISTED = 'https://gui.example'
const HANDSHAKE = '/socket.io/?EIO=4&transport=polling'

cors.before(async (w) => { w.app = await startApp({ CORS_ORIGINS: LISTED }) })
cors.after(async (w) => { await w.app?.close() })

cors('Socket.IO polling: a foreign Origin is refused and never answered with * or its own name', async (w) => {
  for (const method of ['GET', 'OPTIONS']) {
    const res = await raw(w.app.url, {
      method, path: HANDSHAKE,
      headers: { origin: FOREIGN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
    })
    const acao = res.headers['access-control-allow-origin']
    assert.ok(acao !== '*' && acao !== FOREIGN, `${method}: Access-Control-Allow-Origin ${acao}`)
    assert.not.ok(res.headers['access-control-allow-credentials'] === 'true' && acao, `${method}: credentials allowed`)
    if (method === 'GET') {
      assert.ok(res.status >= 400, `GET handshake from a foreign origin: ${res.status} ${res.body}`)
      assert.not.match(res.body, /"sid"/, 'no session id handed out')
    }
  }
})

cors('Socket.IO polling: a CORS_ORIGINS origin is echoed, not *; the own origin connects without a grant', async (w) => {
  const listed = await raw(w.app.url, { method: 'GET', path: HANDSHAKE, headers: { origin: LISTED } })
  assert.is(listed.status, 200, listed.body)
  assert.is(listed.headers['access-control-allow-origin'], LISTED)
  assert.match(listed.body, /"sid"/)
  const own = await raw(w.app.url, { method: 'GET', path: HANDSHAKE, headers: { origin: w.app.url } })
  assert.is(own.status, 200, own.body)
  assert.match(own.body, /"sid"/)
})

cors('Socket.IO polling: localhost on another port is another origin (issue #11), refused', async (w) => {
  for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080']) {
    const res = await raw(w.app.url, { method: 'GET', path: HANDSHAKE, headers: { origin } })
    assert.ok(res.status >= 400, `${origin}: ${res.status} ${res.body}`)
    assert.is(res.headers['access-control-allow-origin'], undefined, origin)
    assert.not.match(res.body, /"sid"/)
  }
})

cors('Socket.IO polling without an Origin (the Python GUI) still connects', async (w) => {
  const res = await raw(w.app.url, { method: 'GET', path: HANDSHAKE })
  assert.is(res.status, 200, res.body)
  assert.is(res.headers['access-control-allow-origin'], undefined)
})

cors('the HTTP API sends no CORS grant to a foreign origin', async (w) => {
  for (const [method, path] of [['GET', '/get-all-poll-data'], ['OPTIONS', '/send-poll'], ['GET', '/status']]) {
    const res = await raw(w.app.url, { method: method!, path: path!, headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } })
    assert.is(res.headers['access-control-allow-origin'], undefined, `${method} ${path}`)
  }
})

cors.run()
