import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, isLoopback, parseConfig } from '../../runtime/config.ts'

const config = suite('parseConfig')

config('defaults match the contract', () => {
  assert.equal(parseConfig({}), {
    port: 3000, host: '127.0.0.1', dataDir: './data', apiToken: null, logLevel: 'info', baileysLogLevel: undefined, waWsUrl: undefined, corsOrigins: [],
  })
})

config('reads every variable', () => {
  const c = parseConfig({
    PORT: '8080', HOST: '0.0.0.0', DATA_DIR: '/data', API_TOKEN: 'abcdefghijklmnop', LOG_LEVEL: 'DEBUG', BAILEYS_LOG_LEVEL: 'Trace',
    WA_WS_URL: 'ws://127.0.0.1:9/ws/chat', CORS_ORIGINS: 'https://a.example, https://b.example',
  })
  assert.equal(c, {
    port: 8080, host: '0.0.0.0', dataDir: '/data', apiToken: 'abcdefghijklmnop', logLevel: 'debug', baileysLogLevel: 'trace',
    waWsUrl: 'ws://127.0.0.1:9/ws/chat', corsOrigins: ['https://a.example', 'https://b.example'],
  })
})

config('names every wrong value at once', () => {
  try {
    parseConfig({ PORT: 'abc', LOG_LEVEL: 'loud', BAILEYS_LOG_LEVEL: 'chatty', API_TOKEN: 'short', WA_WS_URL: 'http://x', CORS_ORIGINS: '*' })
    assert.unreachable()
  } catch (err) {
    assert.instance(err, ConfigError)
    const msg = (err as Error).message
    for (const name of ['PORT', 'LOG_LEVEL', 'BAILEYS_LOG_LEVEL', 'API_TOKEN', 'WA_WS_URL', 'CORS_ORIGINS']) assert.ok(msg.includes(name), name)
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
