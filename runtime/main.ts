import pino from 'pino'
import qrcode from 'qrcode-terminal'
import { createApp } from './app.ts'
import { ConfigError, isLoopback, parseConfig } from './config.ts'
import { routeConsole } from './console-guard.ts'

let config
try {
  config = parseConfig(process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  process.exit(2)
}

const log = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.token', '*.apiToken'] })
routeConsole(log)
if (!isLoopback(config.host) && !config.apiToken) {
  log.warn({ host: config.host }, 'listening on a non-loopback address WITHOUT API_TOKEN: anyone who reaches this port can read polls and send messages as you')
}

const app = createApp(config, log)
app.emitter.on('qr', (qr) => {
  qrcode.generate(qr, { small: true }, (art) => process.stdout.write(`Scan this QR code with WhatsApp (Linked devices):\n${art}\n`))
})

app.server.listen(config.port, config.host, () => {
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr ? addr.port : config.port
  log.info({ host: config.host, port }, 'pollwire listening')
  app.session.start()
})

let closing = false
const shutdown = (signal: string) => {
  if (closing) return
  closing = true
  log.info({ signal }, 'shutting down')
  const force = setTimeout(() => { log.error('shutdown took too long; exiting'); process.exit(1) }, 10_000)
  force.unref()
  app.shutdown().then(() => process.exit(0), (err) => { log.error({ err }, 'shutdown failed'); process.exit(1) })
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))
