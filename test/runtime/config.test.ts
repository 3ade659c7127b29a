import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, isLoopback, parseConfig } from '../../runtime/config.ts'

/** A valid Standard Webhooks secret. */
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

const config = suite('parseConfig')

config('defaults match the contract', () => {
  assert.equal(parseConfig({}), {
    port: 3000, host: '127.0.0.1', dataDir: './data', apiToken: null, logLevel: 'info', baileysLogLevel: undefined, waWsUrl: undefined, corsOrigins: [], allowedHosts: [],
    webhooks: { urls: [], secret: undefined, retryForMs: 86_400_000 }, campaignMaxPerMinute: 20,
  })
})

config('reads every variable', () => {
  const c = parseConfig({
    PORT: '8080', HOST: '0.0.0.0', DATA_DIR: '/data', API_TOKEN: 'abcdefghijklmnop', LOG_LEVEL: 'DEBUG', BAILEYS_LOG_LEVEL: 'Trace',
    WA_WS_URL: 'ws://127.0.0.1:9/ws/chat', CORS_ORIGINS: 'https://a.example, https://b.example',
    ALLOWED_HOSTS: 'PollWire.lan, box:8080',
    WEBHOOK_URL: 'http://127.0.0.1:8080/hook, https://crm.example/in#frag', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_FOR: '3600',
    CAMPAIGN_MAX_PER_MIN: '45', LOG_FORMAT: 'Pretty',
  })
  assert.equal(c, {
    port: 8080, host: '0.0.0.0', dataDir: '/data', apiToken: 'abcdefghijklmnop', logLevel: 'debug', baileysLogLevel: 'trace',
    waWsUrl: 'ws://127.0.0.1:9/ws/chat', corsOrigins: ['https://a.example', 'https://b.example'], allowedHosts: ['pollwire.lan', 'box:8080'],
    webhooks: { urls: ['http://127.0.0.1:8080/hook', 'https://crm.example/in'], secret: SECRET, retryForMs: 3_600_000 },
    campaignMaxPerMinute: 45, logFormat: 'pretty',
  })
})

config('names every wrong value at once', () => {
  try {
    parseConfig({ PORT: 'abc', LOG_LEVEL: 'loud', BAILEYS_LOG_LEVEL: 'chatty', API_TOKEN: 'short', WA_WS_URL: 'http://x', CORS_ORIGINS: '*',
      WEBHOOK_URL: 'ftp://x.example', WEBHOOK_SECRET: 'not-a-secret', WEBHOOK_RETRY_FOR: '1h', CAMPAIGN_MAX_PER_MIN: '0', LOG_FORMAT: 'xml' })
    assert.unreachable()
  } catch (err) {
    assert.instance(err, ConfigError)
    const msg = (err as Error).message
    for (const name of ['PORT', 'LOG_LEVEL', 'BAILEYS_LOG_LEVEL', 'API_TOKEN', 'WA_WS_URL', 'CORS_ORIGINS', 'WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_RETRY_FOR', 'CAMPAIGN_MAX_PER_MIN', 'LOG_FORMAT']) assert.ok(msg.includes(name), name)
  }
})

config('several processes: WEBHOOK_URL with DATABASE_URL needs WEBHOOK_SECRET; ADVERTISE_URL is an origin', () => {
  const pg = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', WEBHOOK_URL: 'http://127.0.0.1:9/hook' }
  assert.throws(() => parseConfig(pg), /WEBHOOK_URL with DATABASE_URL needs WEBHOOK_SECRET/)
  assert.is(parseConfig({ ...pg, WEBHOOK_SECRET: SECRET }).webhooks.secret, SECRET)
  assert.is(parseConfig({ WEBHOOK_URL: pg.WEBHOOK_URL }).webhooks.secret, undefined, 'one process on SQLite makes its own')
  assert.is(parseConfig({ ADVERTISE_URL: 'http://pollwire-1:3000/' }).advertiseUrl, 'http://pollwire-1:3000')
  for (const bad of ['pollwire-1:3000', 'http://x:3000/path', 'ftp://x']) assert.throws(() => parseConfig({ ADVERTISE_URL: bad }), /ADVERTISE_URL/, bad)
})

config('ALLOWED_HOSTS takes host names, not URLs, paths, wildcards or spaces', () => {
  for (const bad of ['http://x.example', 'x.example/', '*.example', '*', 'my host']) {
    try {
      parseConfig({ ALLOWED_HOSTS: `ok.example, ${bad}` })
      assert.unreachable(bad)
    } catch (err) {
      assert.instance(err, ConfigError, bad)
      assert.match((err as Error).message, /ALLOWED_HOSTS/)
    }
  }
})

config('PORT: decimal digits 0-65535 only (0 = any free port); empty, hex, exponent, sign, out of range are errors', () => {
  for (const [given, port] of [['80', 80], ['3000', 3000], [' 8080 ', 8080], ['65535', 65535], ['1', 1], ['0', 0]] as const) {
    assert.is(parseConfig({ PORT: given }).port, port, JSON.stringify(given))
  }
  for (const bad of ['', ' ', '0x10', '1e3', '-1', '+80', '65536', '99999', '3000.0', '3.5', '80 80', 'abc', '1_000', 'Infinity']) {
    try {
      parseConfig({ PORT: bad })
      assert.unreachable(JSON.stringify(bad))
    } catch (err) {
      assert.instance(err, ConfigError, JSON.stringify(bad))
      assert.match((err as Error).message, /PORT/, JSON.stringify(bad))
    }
  }
})

config('isLoopback', () => {
  assert.ok(isLoopback('127.0.0.1'))
  assert.ok(isLoopback('localhost'))
  assert.ok(isLoopback('::1'))
  assert.not.ok(isLoopback('0.0.0.0'))
  assert.not.ok(isLoopback('192.168.1.2'))
})

config.run()
