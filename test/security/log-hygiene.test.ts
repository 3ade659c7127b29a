import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { baileysLevel, createApp } from '../../runtime/app.ts'
import { parseConfig } from '../../runtime/config.ts'
import { routeConsole } from '../../runtime/console-guard.ts'
import type { SocketFactory } from '../../core/whatsapp/baileys-socket.ts'
import { fakeSocketFactory } from '../core/whatsapp/fake-socket.ts'

/**
 * What keeps key material out of the logs at any LOG_LEVEL (issue #7; the process-level proof
 * is test/security/e2e/no-secrets-in-logs.test.ts): Baileys' logger is capped at info unless
 * BAILEYS_LOG_LEVEL says otherwise, and console output of dependencies reaches the log as
 * text only.
 */

function memoryLogger(level: string) {
  const lines: string[] = []
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done() } })
  return { log: pino({ level }, stream), lines }
}

const levels = suite('Baileys log level')

levels('LOG_LEVEL trace or debug gives Baileys info; quieter levels are kept; BAILEYS_LOG_LEVEL wins', () => {
  assert.is(baileysLevel({}, pino({ level: 'trace' })), 'info')
  assert.is(baileysLevel({}, pino({ level: 'debug' })), 'info')
  assert.is(baileysLevel({}, pino({ level: 'info' })), 'info')
  assert.is(baileysLevel({}, pino({ level: 'warn' })), 'warn')
  assert.is(baileysLevel({}, pino({ level: 'silent' })), 'silent')
  assert.is(baileysLevel({ baileysLogLevel: 'trace' }, pino({ level: 'info' })), 'trace')
})

levels('createApp hands the socket a logger at that level', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-log-'))
  const seen: string[] = []
  const sockets = fakeSocketFactory()
  const spy: SocketFactory = (opts) => {
    seen.push(opts.logger.level)
    // What wa-socket.ts does with it: Baileys gets a child, which keeps the level.
    seen.push(opts.logger.child({ module: 'baileys' }).level)
    return sockets.factory(opts)
  }
  for (const env of [{ LOG_LEVEL: 'trace' }, { LOG_LEVEL: 'trace', BAILEYS_LOG_LEVEL: 'debug' }]) {
    const config = parseConfig({ ...env, DATA_DIR: join(dir, env.BAILEYS_LOG_LEVEL ?? 'x') })
    const app = await createApp(config, memoryLogger(config.logLevel).log, spy)
    app.session.start()
    await new Promise((resolve) => setImmediate(resolve))
    await app.shutdown()
  }
  rmSync(dir, { recursive: true, force: true })
  assert.equal(seen, ['info', 'info', 'debug', 'debug'])
})

levels.run()

// ---

const guard = suite('routeConsole')

guard('console calls become log lines without the objects they carried', () => {
  const { log, lines } = memoryLogger('trace')
  const target = { debug() {}, log() {}, info() {}, warn() {}, error() {}, trace() {} } as unknown as Pick<Console, 'debug' | 'log' | 'info' | 'warn' | 'error' | 'trace'>
  const restore = routeConsole(log, target)
  const privKey = Buffer.from('a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f', 'hex')
  target.info('Closing session:', { currentRatchet: { ephemeralKeyPair: { privKey }, rootKey: privKey } })
  target.warn('Closing open session in favor of incoming prekey bundle')
  target.error('Session error:Error: Bad MAC', new Error('Bad MAC'))
  target.log('count', 3, true, null)
  restore()
  target.info('after restore')
  const parsed = lines.map((l) => JSON.parse(l))
  assert.equal(parsed.map((p) => [p.level, p.module, p.msg]), [
    [20, 'console', 'Closing session: [Object]'],
    [30, 'console', 'Closing open session in favor of incoming prekey bundle'],
    [40, 'console', 'Session error:Error: Bad MAC Error: Bad MAC'],
    [20, 'console', 'count 3 true null'],
  ])
  const all = lines.join('')
  for (const form of [privKey.toString('hex'), privKey.toString('base64'), [...privKey].join(','), 'a0 b1 c2 d3']) {
    assert.not.ok(all.includes(form), `the key leaked as ${form}`)
  }
})

guard('console output is dropped below the log level like any other line', () => {
  const { log, lines } = memoryLogger('info')
  const target = { debug() {}, log() {}, info() {}, warn() {}, error() {}, trace() {} } as unknown as Pick<Console, 'debug' | 'log' | 'info' | 'warn' | 'error' | 'trace'>
  const restore = routeConsole(log, target)
  target.info('Opening session:', {})
  target.error('Failed to decrypt message with any known session...')
  restore()
  assert.is(lines.length, 1)
  assert.is(JSON.parse(lines[0]!).level, 40)
})

guard.run()
