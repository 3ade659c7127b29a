import type { Logger } from 'pino'
import { AccountError, type AccountErrorCode } from '../contract/account.ts'
import { HttpError, isJsonType, json, type Context, type Route } from '../contract/http.ts'
import { MAX_BODY_BYTES } from '../contract/limits.ts'

export type { Route }

/** What each failure of an account means in HTTP. */
const ACCOUNT_STATUS: Record<AccountErrorCode, number> = {
  not_connected: 503,
  already_linked: 409,
  rejected: 502,
  store_unavailable: 503,
}

/** What the router needs beside the routes: the parts of the context that live longer than a request. */
export type BaseContext = Omit<Context, 'params' | 'log'> & { log: Logger }

export interface RouterOptions {
  /** bodies larger than this are answered 413 before any handler runs */
  maxBodyBytes?: number
  /** wraps every non-public route, e.g. the API token check */
  guard?: (req: Request) => void
  /** called once per answered request, for metrics */
  observe?: (route: string, method: string, status: number) => void
  /**
   * One account's part of the context, by id (undefined when there is no such account). With
   * it, every route but the `global` ones is also served under `/accounts/:account`.
   */
  account?: (id: string) => Pick<Context, 'session' | 'polls' | 'campaigns'> | undefined
  /**
   * Several processes: a write to an account another process owns goes there. Returns that
   * process's answer, or null to handle the request here. Reads are answered here.
   */
  forward?: (account: string, req: Request) => Promise<Response> | null
}

interface Compiled { route: Route; keys: string[]; pattern: RegExp }

type Match = { route: Route; params: Record<string, string> } | 'method' | null

/** `/accounts/<id>/<the rest>`: the rest is a route of that account. */
const ACCOUNT_PREFIX = /^\/accounts\/([^/]+)(\/.*)$/
const PREFIX_PATTERN = '/accounts/:account'

/**
 * The one place a request meets its handler. With `opts.account`, a route is served for the
 * `default` account at its path (the GUI's) and for any account under `/accounts/:account`,
 * with that account's session and polls in the context; the handlers never know which.
 * The router alone turns errors into the contract's `{ success: false, message }` and logs only 5xx.
 */
export function createRouter(routes: Route[], base: BaseContext, opts: RouterOptions = {}) {
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES
  const direct = matcher(routes)
  const scoped = matcher(routes.filter((r) => !r.global))

  /** The route at `path`, else an account's route under its prefix (then `account` is its id). */
  function find(method: string, path: string): { found: Match; account: string | null } {
    const found = direct(method, path)
    if (found !== null || !opts.account) return { found, account: null }
    const m = ACCOUNT_PREFIX.exec(path)
    if (!m) return { found: null, account: null }
    return { found: scoped(method, m[2]!), account: safeDecode(m[1]!) }
  }

  return async function dispatch(req: Request): Promise<Response> {
    const url = new URL(req.url)
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const { found, account } = find(method, url.pathname)
    const routeName = found && found !== 'method' ? (account === null ? '' : PREFIX_PATTERN) + found.route.path : 'unmatched'
    let log = base.log.child({ method: req.method, path: url.pathname })
    let res: Response
    try {
      if (found === null) throw new HttpError(404, `no route for ${req.method} ${url.pathname}`)
      if (found === 'method') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`)
      if (!found.route.public) opts.guard?.(req)
      // After the guard: without the token nobody learns which accounts exist.
      const scope = account === null ? null : opts.account?.(account)
      if (account !== null && !scope) throw new HttpError(404, `no account with id ${JSON.stringify(account)}`)
      if (account !== null) log = log.child({ account })
      // The unprefixed paths are the `default` account's, whichever object holds it right now
      // (the server's own, such as /health, read it too; only its paths are forwarded).
      const own = account ?? (found.route.global ? null : 'default')
      const current = scope ?? opts.account?.(own ?? 'default')
      const body = await limitedBody(req, maxBody)
      // Every body this API takes is JSON; a form or text/plain is what another site's page can send unasked.
      if (body !== null && body.byteLength > 0 && !isJsonType(req.headers.get('content-type'))) {
        throw new HttpError(415, 'request body must be application/json (Content-Type: application/json)')
      }
      const inner = body === null ? req : new Request(req.url, { method: req.method, headers: req.headers, body })
      const forwarded = own !== null && method !== 'GET' ? opts.forward?.(own, inner) : null
      res = forwarded ? await forwarded : await found.route.handler(inner, { ...base, ...current, log, params: found.params })
    } catch (err) {
      res = errorResponse(err, log)
    }
    opts.observe?.(routeName, req.method, res.status)
    if (req.method === 'HEAD') return new Response(null, { status: res.status, headers: res.headers })
    return res
  }
}

/**
 * Static paths are looked up in a map; `:param` paths are compiled once. The answer: the route
 * and its decoded parameters, 'method' when the path exists for another method only, or null.
 */
function matcher(routes: Route[]): (method: string, path: string) => Match {
  const statics = new Map<string, Route>()
  const dynamics: Compiled[] = []
  for (const route of routes) {
    if (!route.path.includes(':')) { statics.set(`${route.method} ${route.path}`, route); continue }
    const keys: string[] = []
    const source = route.path.split('/').map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      keys.push(seg.slice(1))
      return '([^/]+)'
    }).join('/')
    dynamics.push({ route, keys, pattern: new RegExp(`^${source}$`) })
  }

  return function match(method: string, path: string): Match {
    const hit = statics.get(`${method} ${path}`)
    if (hit) return { route: hit, params: {} }
    let otherMethod = false
    for (const r of routes) if (!r.path.includes(':') && r.path === path) otherMethod = true
    for (const c of dynamics) {
      const m = c.pattern.exec(path)
      if (!m) continue
      if (c.route.method !== method) { otherMethod = true; continue }
      const params: Record<string, string> = {}
      c.keys.forEach((k, i) => { params[k] = safeDecode(m[i + 1] ?? '') })
      return { route: c.route, params }
    }
    return otherMethod ? 'method' : null
  }
}

function errorResponse(err: unknown, log: Logger): Response {
  if (err instanceof AccountError) err = new HttpError(ACCOUNT_STATUS[err.code], err.message, err.detail)
  if (err instanceof HttpError) {
    if (err.status >= 500) log.warn({ status: err.status, reason: err.message }, 'request failed')
    const body: Record<string, unknown> = { success: false, message: err.message }
    if (err.detail) body.error = err.detail
    const headers: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Bearer' } : {}
    return json(err.status, body, headers)
  }
  log.error({ err }, 'unhandled error')
  return json(500, { success: false, message: 'internal server error' })
}

/** Reads at most `max` bytes; a larger body is a 413 whatever Content-Length claims. */
async function limitedBody(req: Request, max: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (req.method === 'GET' || req.method === 'HEAD' || !req.body) return null
  const declared = Number(req.headers.get('content-length') ?? '0')
  if (declared > max) throw new HttpError(413, `request body exceeds ${max} bytes`)
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>
    try {
      next = await reader.read()
    } catch {
      // The client went away mid-body (or sent broken chunked coding): its fault, nobody to answer.
      throw new HttpError(400, 'request body could not be read: the client went away or sent a broken stream')
    }
    const { done, value } = next
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      throw new HttpError(413, `request body exceeds ${max} bytes`)
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}
