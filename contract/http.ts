import type { Logger } from 'pino'
import type { AccountsAdmin, Session } from './account.ts'
import type { Campaigns } from './campaigns.ts'
import type { PollReader } from './polls.ts'
import type { WebhooksAdmin } from './webhooks.ts'

/** An expected failure: the router answers `{ success: false, message }` with `status`. */
export class HttpError extends Error {
  readonly status: number
  readonly detail?: string
  constructor(status: number, message: string, detail?: string) {
    super(message)
    this.status = status
    this.detail = detail
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

/**
 * Whether a Content-Type header says JSON. A browser sends a body cross-site without asking
 * first only as text/plain, a form, or with no type at all (no-cors fetch of a Blob), so a
 * missing type is not JSON either.
 */
export const isJsonType = (type: string | null) => /^application\/([^;,\s]+\+)?json\s*(;|$)/i.test(type ?? '')

/** Liveness of the store, for GET /health. */
export interface StoreProbe { ok(): boolean }

/** The Prometheus exposition, for GET /metrics; prom-client itself stays in runtime/. */
export interface MetricsText { text(): Promise<string>; readonly contentType: string }

/** Draws a QR string as an SVG document, for GET /status/qr.svg. */
export type QrRenderer = (text: string) => Promise<string>

/** What a handler gets besides the request: one account's session and polls, and the server's parts. */
export interface Context {
  session: Session
  polls: PollReader
  /** the account's campaigns; absent where the runtime runs none */
  campaigns?: Campaigns
  store: StoreProbe
  log: Logger
  params: Record<string, string>
  /** absent when the runtime collects no metrics */
  metrics?: MetricsText
  /** absent when the runtime draws no QR images */
  qrSvg?: QrRenderer
  /** the webhook endpoints and deliveries; absent when the runtime has no outbox */
  webhooks?: WebhooksAdmin
  /** the server's accounts (GET/POST/DELETE /accounts); absent when the runtime serves one */
  accounts?: AccountsAdmin
}

export type Handler = (req: Request, ctx: Context) => Response | Promise<Response>

/**
 * One line of the route table (handlers/index.ts). `public` routes skip the API token. Every
 * route is served for the `default` account at its path and for each account under
 * `/accounts/:account` + path, with that account's session and polls; `global` routes (the
 * server's own: health, metrics, webhooks, the accounts themselves) only at their path.
 */
export interface Route { method: string; path: string; handler: Handler; public?: boolean; global?: boolean }
