export interface Config {
  port: number
  host: string
  dataDir: string
  apiToken: string | null
  logLevel: string
  /**
   * Baileys' own level (BAILEYS_LOG_LEVEL); undefined = LOG_LEVEL but never below info: at debug
   * and trace Baileys logs every frame, pairing refs included (see runtime/app.ts).
   */
  baileysLogLevel?: string
  /** undefined = Baileys' default (WhatsApp itself) */
  waWsUrl: string | undefined
  /** extra browser origins allowed to open Socket.IO besides same-origin and localhost */
  corsOrigins: string[]
}

export class ConfigError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Reads the environment once at start; every wrong value is named in one error. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = []
  const port = Number(env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be an integer 0-65535, got "${env.PORT}"`)
  const host = env.HOST?.trim() || '127.0.0.1'
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
  const baileysLogLevel = env.BAILEYS_LOG_LEVEL?.trim().toLowerCase() || undefined
  if (baileysLogLevel && !LEVELS.includes(baileysLogLevel)) problems.push(`BAILEYS_LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
  const apiToken = env.API_TOKEN ? env.API_TOKEN : null
  if (apiToken !== null && apiToken.length < 16) problems.push('API_TOKEN must be at least 16 characters')
  const waWsUrl = env.WA_WS_URL?.trim() || undefined
  if (waWsUrl && !/^wss?:\/\//.test(waWsUrl)) problems.push(`WA_WS_URL must be a ws:// or wss:// URL, got "${waWsUrl}"`)
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (corsOrigins.includes('*')) problems.push('CORS_ORIGINS must list origins; "*" is not allowed')
  if (problems.length) throw new ConfigError(`invalid configuration:\n- ${problems.join('\n- ')}`)
  return { port, host, dataDir: env.DATA_DIR?.trim() || './data', apiToken, logLevel, baileysLogLevel, waWsUrl, corsOrigins }
}

/** Loopback binds are private to this machine; anything else is reachable from the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}
