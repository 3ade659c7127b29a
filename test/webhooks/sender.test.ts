import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSecret } from '../../core/webhooks/secret.ts'
import { createSender } from '../../core/webhooks/sender.ts'
import { startReceiver } from './receiver.ts'

const secret = generateSecret()
const event = { id: 'msg_01JDAAAAAAAAAAAAAAAAAAAAAA', body: JSON.stringify({ type: 'poll.vote', timestamp: new Date().toISOString(), data: { a: 1 } }) }
const send = suite('createSender')
const closers: Array<() => Promise<void>> = []
send.after.each(async () => { while (closers.length) await closers.pop()!() })
const receiver = async (...args: Parameters<typeof startReceiver>) => {
  const r = await startReceiver(...args)
  closers.push(r.close)
  return r
}

send('signs per Standard Webhooks: the receiver verifies with the secret; headers as the spec says', async () => {
  const r = await receiver()
  const result = await createSender().send({ url: r.url, secret, event })
  assert.equal(result, { ok: true, status: 204 })
  const got = r.requests[0]!
  assert.is(got.body, event.body)
  assert.equal(new Webhook(secret).verify(got.body, got.headers), JSON.parse(event.body))
  assert.is(got.headers['webhook-id'], event.id)
  assert.match(got.headers['webhook-timestamp']!, /^[0-9]{10}$/)
  assert.match(got.headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=*$/)
  assert.is(got.headers['content-type'], 'application/json')
  assert.is(got.headers['user-agent'], 'pollwire-webhooks')
  assert.throws(() => new Webhook(generateSecret()).verify(got.body, got.headers), /signature/i, 'another secret does not verify')
})

send('a non-2xx answer is a failure naming the status and the start of the answer', async () => {
  const r = await receiver((_q, res) => { res.writeHead(503, { 'content-type': 'text/plain' }).end('  busy,\n try later ') })
  assert.equal(await createSender().send({ url: r.url, secret, event }), { ok: false, status: 503, error: 'HTTP 503: busy, try later' })
})

send('follows at most 3 redirects, and only within the same scheme, host and port', async () => {
  const r = await receiver((q, res) => {
    const hop = Number(q.path.split('/').pop())
    if (q.path.startsWith('/hook') || hop < 3) res.writeHead(307, { location: `/r/${Number.isNaN(hop) ? 1 : hop + 1}` }).end()
    else res.writeHead(200).end('ok')
  })
  assert.equal(await createSender().send({ url: r.url, secret, event }), { ok: true, status: 200 })
  assert.equal(r.requests.map((q) => q.path), ['/hook', '/r/1', '/r/2', '/r/3'])
  assert.ok(r.requests.every((q) => q.body === event.body && q.id === event.id), 'the same signed request at each hop')

  const loop = await receiver((_q, res) => { res.writeHead(302, { location: '/again' }).end() })
  const looped = await createSender().send({ url: loop.url, secret, event })
  assert.equal(looped, { ok: false, status: 302, error: 'HTTP 302 redirect not followed: more than 3 redirects' })
  assert.is(loop.requests.length, 4)
})

send('a redirect to another host or port is not followed, and the failure names it', async () => {
  const elsewhere = await receiver()
  const r = await receiver((_q, res) => { res.writeHead(308, { location: `http://127.0.0.1:${elsewhere.port}/stolen?token=x` }).end() })
  const result = await createSender().send({ url: r.url, secret, event })
  assert.equal(result, {
    ok: false, status: 308,
    error: `HTTP 308 redirect to http://127.0.0.1:${elsewhere.port} not followed: only redirects within http://127.0.0.1:${r.port} are`,
  })
  assert.is(elsewhere.requests.length, 0)
  const other = await receiver((_q, res) => { res.writeHead(301, { location: 'http://localhost/x' }).end() })
  assert.match((await createSender().send({ url: other.url, secret, event }) as { error: string }).error, /redirect to http:\/\/localhost not followed/)
})

send('an endless answer is read to 64 KiB at most, then let go', async () => {
  let written = 0
  let closed = false
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(500, { 'content-type': 'text/plain' })
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const pump = () => {
      while (!closed && written < 1024 ** 3) {
        written += chunk.length
        if (!res.write(chunk)) { res.once('drain', pump); return }
      }
    }
    res.on('close', () => { closed = true })
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const heap = process.memoryUsage().heapUsed
  const t = Date.now()
  const result = await createSender({ timeoutMs: 5000 }).send({ url, secret, event })
  assert.ok(Date.now() - t < 3000, 'not held until the timeout')
  assert.is(result.ok, false)
  const error = (result as { error: string }).error
  assert.ok(error.startsWith('HTTP 500: xxxx') && error.length < 400, error.slice(0, 50))
  for (let i = 0; i < 100 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(closed, 'the connection was let go')
  assert.ok(written < 64 * 1024 ** 2, `the server got to write ${written} bytes only`)
  assert.ok(process.memoryUsage().heapUsed - heap < 32 * 1024 ** 2, 'memory stays flat')
})

send('a receiver that never answers fails at the timeout', async () => {
  const r = await receiver(() => { /* never answers */ })
  const t = Date.now()
  const result = await createSender({ timeoutMs: 200 }).send({ url: r.url, secret, event })
  const took = Date.now() - t
  assert.equal(result, { ok: false, error: 'timeout: no complete answer within 200 ms' })
  assert.ok(took >= 190 && took < 2000, String(took))
})

send('a 2xx counts even when its answer body trickles past the timeout', async () => {
  const r = await receiver((_q, res) => { res.writeHead(200); res.write('a') })
  assert.equal(await createSender({ timeoutMs: 200 }).send({ url: r.url, secret, event }), { ok: true, status: 200 })
})

send('a refused connection is a failure that does not quote the URL (it may carry a token)', async () => {
  const r = await startReceiver()
  await r.close()
  const url = `http://127.0.0.1:${r.port}/hook?token=SECRET-TOKEN`
  const result = await createSender().send({ url, secret, event })
  assert.is(result.ok, false)
  const error = (result as { error: string }).error
  assert.match(error, /^connection failed: /)
  assert.not.match(error, /SECRET-TOKEN/)
})

send('an outside abort (the worker stopping) ends the attempt', async () => {
  const r = await receiver(() => { /* never answers */ })
  const abort = new AbortController()
  const pending = createSender().send({ url: r.url, secret, event, signal: abort.signal })
  setTimeout(() => abort.abort(new Error('worker stopping')), 50)
  assert.equal(await pending, { ok: false, error: 'connection failed: worker stopping' })
})

send.run()
