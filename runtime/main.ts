import qrcode from 'qrcode-terminal'
import type { App } from './app.ts'
import { ConfigError, isLoopback, parseConfig, type Config } from './config.ts'
import { routeConsole } from './console-guard.ts'
import { createLogger } from './logger.ts'
import { databaseProblem, dataDirProblem, listenProblem } from './start-errors.ts'

/** A bad config or a failed start: one line for a person on stderr, exit 1, no stack trace. */
function fail(line: string): never {
  process.stderr.write(`pollwire: ${line}\n`)
  process.exit(1)
}

let config: Config
try {
  config = parseConfig(process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  fail(err.message)
}

const log = createLogger(config.logLevel, config.logFormat)
routeConsole(log)
if (!isLoopback(config.host) && !config.apiToken) {
  log.warn({ host: config.host }, 'listening on a non-loopback address WITHOUT API_TOKEN: anyone who reaches this port can read polls and send messages as you')
}

let app: App
try {
  // Imported here, not above: a bad config is told at once, without loading the store and engine.
  const { createApp } = await import('./app.ts')
  app = await createApp(config, log)
} catch (err) {
  const line = config.databaseUrl ? databaseProblem(err) : dataDirProblem(err, config.dataDir)
  if (line === null) log.fatal({ err }, 'start failed')
  fail(line ?? `start failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
}
// Shown once, on the terminal only: the secret is kept in DATA_DIR, never in the log.
if (app.generatedWebhookSecret) {
  process.stderr.write(`pollwire: webhook signing secret (made now, kept in ${config.dataDir}/webhook-secret; shown only this once): ${app.generatedWebhookSecret}\n`)
}
// The art is for a person at a terminal. A piped or redirected stdout carries the JSON log
// lines to wherever logs are shipped, so there it goes to stderr.
const qrOut = process.stdout.isTTY ? process.stdout : process.stderr
app.emitter.on('qr', (qr) => {
  qrcode.generate(qr, { small: true }, (art) => qrOut.write(`Scan this QR code with WhatsApp (Linked devices):\n${art}\n`))
})

const listenFailed = (err: Error) => fail(listenProblem(err, config.host, config.port))
app.server.once('error', listenFailed)
app.server.listen(config.port, config.host, () => {
  app.server.off('error', listenFailed)
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr ? addr.port : config.port
  log.info({ host: config.host, port }, 'pollwire listening')
  app.start(port)
})

let closing = false
const shutdown = (signal: string) => {
  if (closing) return
  closing = true
  log.info({ signal }, 'shutting down')
  const force = setTimeout(() => { log.error('shutdown took too long; exiting'); process.exit(1) }, 10_000)
  force.unref()
  app.shutdown().then(() => { log.info('stopped'); process.exit(0) }, (err) => { log.error({ err }, 'shutdown failed'); process.exit(1) })
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))
