import { secretProblem } from '../core/webhooks/secret.ts'
import { parseWebhookUrls } from './webhook-endpoints.ts'

export interface Config {
  port: number
  host: string
  dataDir: string
  apiToken: string | null
  logLevel: string
  /** LOG_FORMAT: `json` lines or `pretty` coloured lines; unset = pretty on a terminal, JSON otherwise */
  logFormat?: 'json' | 'pretty'
  /**
   * Baileys' own level (BAILEYS_LOG_LEVEL); undefined = LOG_LEVEL but never below info: at debug
   * and trace Baileys logs every frame, pairing refs included (see runtime/app.ts).
   */
  baileysLogLevel?: string
  /** undefined = Baileys' default (WhatsApp itself) */
  waWsUrl: string | undefined
  /** extra browser origins allowed to write and to open Socket.IO besides the server's own origin */
  corsOrigins: string[]
  /** ALLOWED_HOSTS: Host names (or name:port) accepted besides loopback and a non-loopback HOST; lower case */
  allowedHosts: string[]
  /** WEBHOOK_URL (normalised), WEBHOOK_SECRET (checked; generated at first start when unset), WEBHOOK_RETRY_FOR */
  webhooks: { urls: string[]; secret?: string; retryForMs: number }
  /** CAMPAIGN_MAX_PER_MIN: campaign sends per account and minute at most (default 20) */
  campaignMaxPerMinute: number
  /** ADVERTISE_URL: where other processes of the cluster reach this one (PostgreSQL only); default http://<HOST or hostname>:<PORT> */
  advertiseUrl?: string
  /** DATABASE_URL: PostgreSQL instead of the embedded SQLite; it may hold a password, so it is never logged */
  databaseUrl?: string
}

export class ConfigError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Reads the environment once at start; every wrong value is named in one error. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = []
  // Digits only: Number() also takes '', '0x10', '1e3' and '+80', and an empty PORT became 0,
  // a random port. 0 stays allowed when written out (any free port; the listening line says which).
  const portText = env.PORT?.trim() ?? '3000'
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN
  if (portText === '') problems.push('PORT is empty: unset it for the default 3000, or give a port 1-65535')
  else if (!(port <= 65535)) problems.push(`PORT must be a port number 1-65535 in decimal digits (0 = any free port), got "${env.PORT}"`)
  const host = env.HOST?.trim() || '127.0.0.1'
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
  const logFormat = env.LOG_FORMAT?.trim().toLowerCase() || undefined
  if (logFormat && logFormat !== 'json' && logFormat !== 'pretty') problems.push(`LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`)
  const baileysLogLevel = env.BAILEYS_LOG_LEVEL?.trim().toLowerCase() || undefined
  if (baileysLogLevel && !LEVELS.includes(baileysLogLevel)) problems.push(`BAILEYS_LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
  const apiToken = env.API_TOKEN ? env.API_TOKEN : null
  if (apiToken !== null && apiToken.length < 16) problems.push('API_TOKEN must be at least 16 characters')
  const waWsUrl = env.WA_WS_URL?.trim() || undefined
  if (waWsUrl && !/^wss?:\/\//.test(waWsUrl)) problems.push(`WA_WS_URL must be a ws:// or wss:// URL, got "${waWsUrl}"`)
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (corsOrigins.includes('*')) problems.push('CORS_ORIGINS must list origins; "*" is not allowed')
  const allowedHosts = (env.ALLOWED_HOSTS ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  for (const h of allowedHosts) {
    if (/[/*\s]/.test(h)) problems.push(`ALLOWED_HOSTS must list host names (optionally name:port) without scheme, path or "*", got "${h}"`)
  }
  let webhookUrls: string[] = []
  try { webhookUrls = parseWebhookUrls(env.WEBHOOK_URL) } catch (err) { problems.push((err as Error).message) }
  const webhookSecret = env.WEBHOOK_SECRET?.trim() || undefined
  const secretBad = webhookSecret && secretProblem(webhookSecret)
  if (secretBad) problems.push(`WEBHOOK_SECRET ${secretBad}`)
  const retryText = env.WEBHOOK_RETRY_FOR?.trim() || '86400'
  if (!/^\d{1,7}$/.test(retryText) || Number(retryText) < 1) problems.push(`WEBHOOK_RETRY_FOR must be a number of seconds (1 or more), got "${env.WEBHOOK_RETRY_FOR}"`)
  const capText = env.CAMPAIGN_MAX_PER_MIN?.trim() || '20'
  if (!/^\d{1,5}$/.test(capText) || Number(capText) < 1) problems.push(`CAMPAIGN_MAX_PER_MIN must be a whole number of sends per minute (1 or more), got "${env.CAMPAIGN_MAX_PER_MIN}"`)
  const advertiseUrl = env.ADVERTISE_URL?.trim().replace(/\/+$/, '') || undefined
  if (advertiseUrl && !/^https?:\/\/[^\s/]+$/.test(advertiseUrl)) problems.push(`ADVERTISE_URL must be http(s)://host:port without a path, got "${env.ADVERTISE_URL}"`)
  const databaseUrl = env.DATABASE_URL?.trim() || undefined
  // Named without the URL itself: it may carry a password.
  if (databaseUrl && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL')
  // Each process would make its own secret in its own DATA_DIR, and they would take turns
  // replacing the shared endpoint's: with PostgreSQL the secret is given, once, for all.
  if (databaseUrl && webhookUrls.length && !webhookSecret) problems.push('WEBHOOK_URL with DATABASE_URL needs WEBHOOK_SECRET (whsec_<base64>): every process sharing the database must sign with the same secret')
  if (problems.length) throw new ConfigError(`invalid configuration:\n- ${problems.join('\n- ')}`)
  return {
    port, host, dataDir: env.DATA_DIR?.trim() || './data', apiToken, logLevel, baileysLogLevel, waWsUrl, corsOrigins, allowedHosts,
    webhooks: { urls: webhookUrls, secret: webhookSecret, retryForMs: Number(retryText) * 1000 },
    campaignMaxPerMinute: Number(capText),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(advertiseUrl ? { advertiseUrl } : {}),
    ...(logFormat ? { logFormat: logFormat as 'json' | 'pretty' } : {}),
  }
}

/** Loopback binds are private to this machine; anything else is reachable from the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}
