import { Webhook } from 'standardwebhooks'
import type { OutboxEvent } from '../../store/outbox-port.ts'

export type SendResult =
  | { ok: true; status: number }
  | { ok: false; status?: number; error: string }

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface SenderOptions {
  fetch?: typeof fetch
  now?: () => number
  timers?: Timers
  /** the whole attempt, redirects and answer included */
  timeoutMs?: number
  /** redirects followed, each only within the endpoint's scheme, host and port */
  maxRedirects?: number
  /** bytes of an answer read at most (it only feeds the error message) */
  maxBodyBytes?: number
}

export interface SendInput {
  url: string
  secret: string
  event: Pick<OutboxEvent, 'id' | 'body'>
  /** aborts the attempt from outside (the worker stopping) */
  signal?: AbortSignal
}

export interface Sender {
  send(input: SendInput): Promise<SendResult>
}

const ERROR_SNIPPET = 300

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * One signed POST per attempt, following Standard Webhooks: the signature is made per attempt
 * (its timestamp is the attempt's), over the body committed with the event. Redirects are
 * followed by hand, and only within the endpoint's own origin: a receiver must not be able to
 * bounce a signed event to a host the user never configured.
 */
export function createSender({
  fetch: doFetch = globalThis.fetch, now = Date.now, timers = realTimers,
  timeoutMs = 10_000, maxRedirects = 3, maxBodyBytes = 64 * 1024,
}: SenderOptions = {}): Sender {
  // Decoding a secret is cheap, but there is one per endpoint and thousands of sends.
  const signers = new Map<string, Webhook>()
  const signer = (secret: string) => {
    let s = signers.get(secret)
    if (!s) {
      if (signers.size > 256) signers.clear()
      signers.set(secret, (s = new Webhook(secret)))
    }
    return s
  }

  return {
    async send({ url, secret, event, signal }) {
      const at = now()
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'pollwire-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(at / 1000)),
        'webhook-signature': signer(secret).sign(event.id, new Date(at), event.body),
      }
      const abort = new AbortController()
      const timer = timers.setTimeout(() => abort.abort(new TimeoutError(timeoutMs)), timeoutMs)
      const onOuter = () => abort.abort(signal?.reason ?? new Error('aborted'))
      if (signal?.aborted) onOuter()
      else signal?.addEventListener('abort', onOuter, { once: true })
      const origin = new URL(url).origin
      let target = url
      try {
        for (let hop = 0; ; hop++) {
          const res = await doFetch(target, { method: 'POST', headers, body: event.body, redirect: 'manual', signal: abort.signal })
          if (res.status >= 200 && res.status < 300) {
            // Accepted is accepted: an answer body that breaks off or trickles changes nothing.
            await readCapped(res, maxBodyBytes).catch(() => '')
            return { ok: true, status: res.status }
          }
          const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null
          const text = await readCapped(res, maxBodyBytes)
          if (location === null) return { ok: false, status: res.status, error: `HTTP ${res.status}${snippet(text)}` }
          let next: URL
          try {
            next = new URL(location, target)
          } catch {
            return { ok: false, status: res.status, error: `HTTP ${res.status} redirect to an invalid Location, not followed` }
          }
          if (next.origin !== origin) {
            return { ok: false, status: res.status, error: `HTTP ${res.status} redirect to ${next.origin} not followed: only redirects within ${origin} are` }
          }
          if (hop >= maxRedirects) {
            return { ok: false, status: res.status, error: `HTTP ${res.status} redirect not followed: more than ${maxRedirects} redirects` }
          }
          target = next.href
        }
      } catch (err) {
        const reason = abort.signal.aborted ? abort.signal.reason : err
        return { ok: false, error: describe(reason, url) }
      } finally {
        timers.clearTimeout(timer)
        signal?.removeEventListener('abort', onOuter)
      }
    },
  }
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timeout: no complete answer within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

/** Reads at most `max` bytes of the answer and lets go of the rest, so a huge answer costs nothing. */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const room = max - size
    chunks.push(value.byteLength > room ? value.subarray(0, room) : value)
    size += Math.min(value.byteLength, room)
    if (size >= max) {
      await reader.cancel().catch(() => {})
      break
    }
  }
  const all = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) { all.set(c, offset); offset += c.byteLength }
  return new TextDecoder().decode(all)
}

const snippet = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (!flat) return ''
  return `: ${flat.length > ERROR_SNIPPET ? `${flat.slice(0, ERROR_SNIPPET)}…` : flat}`
}

/**
 * A connection error in words, with the cause's code (ECONNREFUSED …). Runtimes quote the
 * request URL in their messages; an endpoint URL can carry a token, so only its origin stays.
 */
function describe(err: unknown, url: string): string {
  if (err instanceof TimeoutError) return err.message
  const e = err instanceof Error ? err : new Error(String(err))
  const cause = (e as { cause?: unknown }).cause
  const code = cause && typeof cause === 'object' ? ((cause as { code?: string }).code ?? (cause as Error).message) : undefined
  const text = `connection failed: ${e.message}${code ? ` (${code})` : ''}`
  return text.split(url).join(new URL(url).origin).slice(0, 500)
}
