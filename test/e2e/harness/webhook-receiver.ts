import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { readReceived, type Received } from '../../webhooks/receiver.ts'
import { freePort } from './server-process.ts'

/**
 * A webhook receiver for the end-to-end suites: test/webhooks/receiver.ts plus what they need
 * besides recording: a fixed port that can go down (connection refused) and come up again,
 * answers chosen per attempt of a webhook-id (e.g. 500 for the first three), and a Standard
 * Webhooks signature check of every request with the endpoint's secret (the `standardwebhooks`
 * package, as a receiver would do it).
 */

export interface Hit extends Received {
  /** 1 for the first request carrying this webhook-id, 2 for its first redelivery, … */
  attempt: number
  /** the HTTP status this receiver answered */
  answered: number
  /** null: the signature verified; else why not (a missing secret is a failure too) */
  signatureError: string | null
  /** the parsed body, when it verified */
  event?: { type: string; timestamp: string; data: any }
}

/** The status to answer the `attempt`th request of one webhook-id with (2xx = accepted). */
export type AnswerPolicy = (hit: Received, attempt: number) => number

export interface WebhookReceiver {
  port: number
  url: string
  /** every request, in arrival order */
  hits: Hit[]
  /** the endpoint's secret (e.g. from POST /webhooks); hits that came before are checked again */
  setSecret(secret: string): void
  /** listens on the port (again) */
  up(): Promise<void>
  /** stops listening and cuts open connections: new attempts get ECONNREFUSED */
  down(): Promise<void>
  readonly listening: boolean
  /** hits whose signature did not verify, described */
  signatureFailures(): string[]
  /**
   * The verified events, one per webhook-id at its first accepted (2xx) arrival, in that order:
   * what a receiver that dedupes by webhook-id processes.
   */
  events(type?: string): Array<{ id: string; type: string; data: any; at: number }>
  close(): Promise<void>
}

export async function startWebhookReceiver(opts: {
  secret?: string
  /** default: a free port */
  port?: number
  /** default: listening at once */
  listen?: boolean
  answer?: AnswerPolicy
} = {}): Promise<WebhookReceiver> {
  const port = opts.port ?? await freePort()
  const answer = opts.answer ?? (() => 204)
  let secret = opts.secret
  const hits: Hit[] = []
  const attempts = new Map<string, number>()
  let server: Server | null = null
  const sockets = new Set<Socket>()

  const check = (h: Received): Pick<Hit, 'signatureError' | 'event'> => {
    if (!secret) return { signatureError: 'no secret known yet' }
    try {
      return { signatureError: null, event: new Webhook(secret).verify(h.body, h.headers) as Hit['event'] }
    } catch (err) {
      return { signatureError: (err as Error).message }
    }
  }

  const listen = async () => {
    const srv = createServer((req, res) => {
      readReceived(req, (r) => {
        const attempt = (attempts.get(r.id) ?? 0) + 1
        attempts.set(r.id, attempt)
        const verified = check(r)
        // A real receiver refuses what it cannot verify; a secret not known yet is checked later.
        const status = verified.signatureError && secret ? 400 : answer(r, attempt)
        hits.push({ ...r, attempt, answered: status, ...verified })
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `refused by the test receiver (${status})` : '')
      })
    })
    srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, '127.0.0.1', () => { srv.off('error', reject); resolve() })
    })
    server = srv
  }

  const stop = async () => {
    const srv = server
    if (!srv) return
    server = null
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => srv.close(() => resolve()))
  }

  if (opts.listen !== false) await listen()

  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    setSecret(s) {
      secret = s
      for (const h of hits) if (h.signatureError) Object.assign(h, check(h))
    },
    async up() { if (!server) await listen() },
    down: stop,
    get listening() { return server !== null },
    signatureFailures: () => hits.filter((h) => h.signatureError).map((h) => `${h.id} (attempt ${h.attempt}): ${h.signatureError}`),
    events(type) {
      const seen = new Set<string>()
      const out: Array<{ id: string; type: string; data: any; at: number }> = []
      for (const h of hits) {
        if (!h.event || h.answered < 200 || h.answered >= 300 || seen.has(h.id)) continue
        seen.add(h.id)
        if (type === undefined || h.event.type === type) out.push({ id: h.id, type: h.event.type, data: h.event.data, at: h.at })
      }
      return out
    },
    close: stop,
  }
}
