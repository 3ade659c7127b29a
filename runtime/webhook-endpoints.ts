import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newId } from '../core/webhooks/ids.ts'
import type { Endpoint } from '../contract/webhooks.ts'
import type { OutboxPort } from '../store/outbox-port.ts'
import { generateSecret, secretProblem } from '../core/webhooks/secret.ts'
import { normaliseUrl, urlProblem } from '../contract/webhooks.ts'

/** A bad WEBHOOK_* setting: the start-up prints it on one line naming the variable, and exits. */
export class WebhookConfigError extends Error {
  readonly variable: string
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.variable = variable
  }
}

export const SECRET_FILE = 'webhook-secret'

/** WEBHOOK_URL: comma-separated http(s) URLs; blanks and repeats are dropped. */
export function parseWebhookUrls(value: string | undefined): string[] {
  const urls: string[] = []
  for (const part of (value ?? '').split(',')) {
    if (!part.trim()) continue
    const problem = urlProblem(part, 'each URL')
    if (problem) throw new WebhookConfigError('WEBHOOK_URL', problem)
    const url = normaliseUrl(part)
    if (!urls.includes(url)) urls.push(url)
  }
  return urls
}

/**
 * The secret kept in `dir`/webhook-secret (mode 0600), made at the first start that needs it.
 * `generated` tells the caller to show it, once, on the terminal: never through the logger,
 * whose lines go wherever logs go.
 */
export function loadOrCreateSecret(dir: string): { secret: string; generated: boolean } {
  const path = join(dir, SECRET_FILE)
  const secret = generateSecret()
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' })
    return { secret, generated: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  // A file restored from a backup may have come back readable by others.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  const kept = readFileSync(path, 'utf8').trim()
  const problem = secretProblem(kept)
  if (problem) throw new WebhookConfigError('WEBHOOK_SECRET', `the secret kept in ${path} ${problem}; delete the file to make a new one`)
  return { secret: kept, generated: false }
}

/**
 * Makes the store's 'env' endpoints what WEBHOOK_URL says: new URLs are added, URLs no longer
 * listed are removed (with their deliveries), kept ones get the current secret. Endpoints added
 * through the API are left alone.
 */
export async function reconcileEnvEndpoints(outbox: OutboxPort, urls: string[], secret: string): Promise<Endpoint[]> {
  const existing = (await outbox.endpoints()).filter((ep) => ep.source === 'env')
  const out: Endpoint[] = []
  for (const ep of existing) {
    if (!urls.includes(ep.url)) { await outbox.removeEndpoint(ep.id); continue }
    if ((await outbox.secretOf(ep.id)) !== secret) await outbox.setSecret(ep.id, secret)
    out.push(ep)
  }
  for (const url of urls) {
    if (existing.some((ep) => ep.url === url)) continue
    out.push(await outbox.addEndpoint({ id: newId('ep_'), url, events: null, account: null, source: 'env', secret }))
  }
  return out
}

export interface EnvEndpointsResult {
  endpoints: Endpoint[]
  /** a secret made at this start, for the caller to print once on the terminal; null otherwise */
  generatedSecret: string | null
}

/** Start-up: WEBHOOK_URL and WEBHOOK_SECRET (or the secret file in `dataDir`) into the store. */
export async function setupEnvEndpoints({ env, dataDir, outbox }: {
  env: Record<string, string | undefined>
  dataDir: string
  outbox: OutboxPort
}): Promise<EnvEndpointsResult> {
  const urls = parseWebhookUrls(env.WEBHOOK_URL)
  if (!urls.length) return { endpoints: await reconcileEnvEndpoints(outbox, [], ''), generatedSecret: null }
  const given = env.WEBHOOK_SECRET?.trim()
  if (given) {
    const problem = secretProblem(given)
    if (problem) throw new WebhookConfigError('WEBHOOK_SECRET', problem)
    return { endpoints: await reconcileEnvEndpoints(outbox, urls, given), generatedSecret: null }
  }
  const { secret, generated } = loadOrCreateSecret(dataDir)
  return { endpoints: await reconcileEnvEndpoints(outbox, urls, secret), generatedSecret: generated ? secret : null }
}
