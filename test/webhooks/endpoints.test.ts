import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadOrCreateSecret, parseWebhookUrls, reconcileEnvEndpoints, setupEnvEndpoints, WebhookConfigError } from '../../runtime/webhook-endpoints.ts'
import { createMemoryOutbox } from '../../store/memory/outbox.ts'
import { generateSecret, secretProblem } from '../../core/webhooks/secret.ts'
import { eventsProblem, urlProblem } from '../../contract/webhooks.ts'

const env = suite('webhook endpoints from the environment')
let dir: string
env.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'pollwire-wh-')) })
env.after.each(() => rmSync(dir, { recursive: true, force: true }))

env('WEBHOOK_URL: comma-separated, trimmed, repeats dropped; a bad one names the variable', () => {
  assert.equal(parseWebhookUrls(' http://127.0.0.1:8080/a , https://hooks.example/b,,http://127.0.0.1:8080/a'),
    ['http://127.0.0.1:8080/a', 'https://hooks.example/b'])
  assert.equal(parseWebhookUrls(undefined), [])
  assert.equal(parseWebhookUrls(' '), [])
  for (const bad of ['ftp://x/y', 'not a url', 'http://user:pw@host/x', 'file:///etc/passwd']) {
    assert.throws(() => parseWebhookUrls(bad), (err: unknown) => err instanceof WebhookConfigError && err.variable === 'WEBHOOK_URL' && err.message.startsWith('WEBHOOK_URL: '))
  }
})

env('secrets: whsec_ + base64 of 32 random bytes, usable by standardwebhooks', () => {
  const s = generateSecret()
  assert.match(s, /^whsec_[A-Za-z0-9+/]{43}=$/)
  assert.is(secretProblem(s), null)
  assert.is.not(generateSecret(), s)
  assert.type(new Webhook(s).sign('msg_1', new Date(), '{}'), 'string')
  assert.match(secretProblem('whsec_c2hvcnQ=') ?? '', /24 to 64 bytes/)
  assert.match(secretProblem('abc') ?? '', /whsec_/)
  assert.match(secretProblem('whsec_***') ?? '', /base64/)
})

env('the secret file: made once with mode 0600, then read back; a loose mode is tightened', () => {
  const first = loadOrCreateSecret(dir)
  assert.ok(first.generated)
  const path = join(dir, 'webhook-secret')
  assert.is(statSync(path).mode & 0o777, 0o600)
  assert.is(readFileSync(path, 'utf8').trim(), first.secret)
  const again = loadOrCreateSecret(dir)
  assert.equal(again, { secret: first.secret, generated: false })
  chmodSync(path, 0o644)
  loadOrCreateSecret(dir)
  assert.is(statSync(path).mode & 0o777, 0o600)
  writeFileSync(path, 'garbage\n')
  assert.throws(() => loadOrCreateSecret(dir), /WEBHOOK_SECRET: the secret kept in .*webhook-secret must start with whsec_/)
})

env('setup: WEBHOOK_SECRET unset generates one at the first start only; it is returned to print, once', async () => {
  const outbox = createMemoryOutbox()
  const first = await setupEnvEndpoints({ env: { WEBHOOK_URL: 'http://127.0.0.1:8080/hook' }, dataDir: dir, outbox })
  assert.ok(first.generatedSecret)
  assert.equal(first.endpoints.map((e) => [e.url, e.source, e.events, e.account]), [['http://127.0.0.1:8080/hook', 'env', null, null]])
  assert.is(await outbox.secretOf(first.endpoints[0]!.id), first.generatedSecret)
  const second = await setupEnvEndpoints({ env: { WEBHOOK_URL: 'http://127.0.0.1:8080/hook' }, dataDir: dir, outbox })
  assert.is(second.generatedSecret, null)
  assert.is(second.endpoints[0]!.id, first.endpoints[0]!.id, 'the same endpoint, its deliveries kept')
})

env('setup: no WEBHOOK_URL makes no secret file; a given WEBHOOK_SECRET is checked and used', async () => {
  const outbox = createMemoryOutbox()
  assert.equal(await setupEnvEndpoints({ env: {}, dataDir: dir, outbox }), { endpoints: [], generatedSecret: null })
  assert.throws(() => statSync(join(dir, 'webhook-secret')))
  const secret = generateSecret()
  const res = await setupEnvEndpoints({ env: { WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: secret }, dataDir: dir, outbox })
  assert.is(await outbox.secretOf(res.endpoints[0]!.id), secret)
  try {
    await setupEnvEndpoints({ env: { WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: 'hunter2' }, dataDir: dir, outbox })
    assert.unreachable('a bad secret must stop the start')
  } catch (err) {
    assert.instance(err, WebhookConfigError)
    assert.is((err as WebhookConfigError).variable, 'WEBHOOK_SECRET')
    assert.not.match((err as Error).message, /hunter2/, 'the message never quotes the secret')
  }
})

env('reconcile: env endpoints follow WEBHOOK_URL, keep their ids and deliveries, get a changed secret; API ones stay', async () => {
  const outbox = createMemoryOutbox()
  await outbox.addEndpoint({ id: 'api1', url: 'http://127.0.0.1:1/api', events: null, account: null, source: 'api', secret: generateSecret() })
  const s1 = generateSecret()
  const [a, b] = await reconcileEnvEndpoints(outbox, ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'], s1)
  const s2 = generateSecret()
  const kept = await reconcileEnvEndpoints(outbox, ['http://127.0.0.1:1/b', 'http://127.0.0.1:1/c'], s2)
  assert.equal(kept.map((e) => e.url), ['http://127.0.0.1:1/b', 'http://127.0.0.1:1/c'])
  assert.is(kept[0]!.id, b!.id)
  assert.is(await outbox.secretOf(b!.id), s2)
  const all = await outbox.endpoints()
  assert.equal(all.map((e) => e.url).sort(), ['http://127.0.0.1:1/api', 'http://127.0.0.1:1/b', 'http://127.0.0.1:1/c'])
  assert.not.ok(all.some((e) => e.id === a!.id), 'removed from WEBHOOK_URL: removed')
  await reconcileEnvEndpoints(outbox, [], '')
  assert.equal((await outbox.endpoints()).map((e) => e.id), ['api1'])
})

env('validation messages name the field', () => {
  assert.is(urlProblem('http://10.0.0.5:8080/hook'), null, 'private addresses are allowed')
  assert.is(urlProblem('http://[::1]:8080/hook'), null)
  assert.match(urlProblem('javascript:alert(1)')!, /^url must be an http: or https: URL/)
  assert.match(urlProblem(42)!, /^url must be a non-empty string/)
  assert.match(urlProblem(`http://x/${'a'.repeat(3000)}`)!, /at most 2048/)
  assert.is(eventsProblem(undefined), null)
  assert.is(eventsProblem(['poll.vote', 'session.status']), null)
  assert.match(eventsProblem('poll.vote')!, /^events must be an array/)
  assert.match(eventsProblem([])!, /at least one/)
  assert.match(eventsProblem(['poll.vote', 'poll.deleted'])!, /unknown event type "poll.deleted"/)
})

env.run()
