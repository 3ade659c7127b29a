import type { Config } from './config.ts'

/**
 * Who may call (API.md "Who may call", issue #11). Without a token the server trusts whoever
 * reaches the port, as the GUI expects; these checks keep a web page the user visits from
 * acting through the user's browser:
 * - a Host that is not this server's is DNS rebinding (a page's own name now resolving to
 *   127.0.0.1): 421 before anything is read or done;
 * - a write from a foreign Origin, or one the browser marks `Sec-Fetch-Site: cross-site`, is a
 *   cross-site request forgery: 403. Clients that are not browsers send neither header.
 * Pure functions over a few header values, so the HTTP and Socket.IO entry points share them.
 */

/** The header values the checks read; absent headers are undefined or null. */
export interface Caller {
  method: string
  host?: string | null
  origin?: string | null
  /** Sec-Fetch-Site */
  fetchSite?: string | null
  /** the request as it came, for rules that need more (a request forwarded by another process of the cluster) */
  req?: Request
}

export interface HostRule {
  /** ALLOWED_HOSTS: names (any port) or name:port (that port only), compared case-insensitively */
  allowedHosts: string[]
  /** HOST, the bind address: allowed as a Host name when it is not loopback or a wildcard */
  bindHost?: string
}

export interface CallerRules {
  /** null = the Host is not checked (API_TOKEN set and no ALLOWED_HOSTS: the token stops a rebound page) */
  hosts: HostRule | null
  corsOrigins: string[]
}

export interface Refusal { status: 403 | 421; message: string }

export const MISDIRECTED: Refusal = { status: 421, message: 'this server does not answer to that Host name (add it to ALLOWED_HOSTS if it is yours)' }
const CROSS_SITE: Refusal = { status: 403, message: 'cross-site request refused: the Origin is not this server nor in CORS_ORIGINS' }

/** `name` or `name:port`, the name a DNS name, an IPv4 address or a bracketed IPv6 address. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)(?::(\d{1,5}))?$/i

interface HostParts { name: string; port?: number }

function parseHost(host: string | null | undefined): HostParts | null {
  if (!host) return null
  const m = HOST_HEADER.exec(host)
  if (!m) return null
  const port = m[2] === undefined ? undefined : Number(m[2])
  if (port !== undefined && port > 65535) return null
  return { name: m[1]!.toLowerCase(), port }
}

/** 127.0.0.0/8 written as a dotted quad; `127.evil.example` is a name anyone can register. */
function isLoopbackV4(name: string): boolean {
  const parts = name.split('.')
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
}

const isLoopbackName = (name: string) => name === 'localhost' || name === '[::1]' || isLoopbackV4(name)

/** HOST as it appears in a Host header, or null for loopback and wildcard binds (they add nothing). */
function bindName(bind: string | undefined): string | null {
  if (!bind) return null
  const name = (bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind).toLowerCase()
  if (['0.0.0.0', '[::]', '[::0]'].includes(name) || isLoopbackName(name)) return null
  return name
}

/** Whether `host` (a Host header) names this server: loopback, ALLOWED_HOSTS or the bind address. */
export function hostAllowed(host: string | null | undefined, rule: HostRule): boolean {
  const parts = parseHost(host)
  if (!parts) return false
  if (isLoopbackName(parts.name)) return true
  if (parts.name === bindName(rule.bindHost)) return true
  const withPort = parts.port === undefined ? null : `${parts.name}:${parts.port}`
  return rule.allowedHosts.some((entry) => {
    const e = entry.toLowerCase()
    return e === parts.name || e === withPort
  })
}

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 }

/** Whether `origin` is the origin of a page served by this server under the Host `host`. */
export function ownOrigin(origin: string, host: string | null | undefined): boolean {
  const parts = parseHost(host)
  if (!parts) return false
  let url: URL
  try { url = new URL(origin) } catch { return false }
  const scheme = DEFAULT_PORT[url.protocol]
  if (scheme === undefined || url.username || url.password || url.pathname !== '/' || url.search || url.hash) return false
  const port = url.port ? Number(url.port) : scheme
  return url.hostname === parts.name && port === (parts.port ?? scheme)
}

/** No Origin (not a browser's request), the server's own origin under `host`, or one of CORS_ORIGINS. */
export function originAllowed(origin: string | null | undefined, host: string | null | undefined, corsOrigins: string[]): boolean {
  if (origin === undefined || origin === null) return true
  return corsOrigins.includes(origin) || ownOrigin(origin, host)
}

/** A read cannot change anything, and its answer is not readable cross-origin (no CORS grant). */
const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether this is a write a browser sends on behalf of another site's page. */
export function crossSiteWrite(caller: Caller, opts: { corsOrigins: string[] }): boolean {
  if (READS.has(caller.method.toUpperCase())) return false
  if (caller.fetchSite?.trim().toLowerCase() === 'cross-site') return true
  return !originAllowed(caller.origin, caller.host, opts.corsOrigins)
}

/** The rules for this configuration. */
export function callerRules(config: Pick<Config, 'apiToken' | 'allowedHosts' | 'host' | 'corsOrigins'>): CallerRules {
  const checkHosts = config.apiToken === null || config.allowedHosts.length > 0
  return {
    hosts: checkHosts ? { allowedHosts: config.allowedHosts, bindHost: config.host } : null,
    corsOrigins: config.corsOrigins,
  }
}

/** Why this caller is turned away before anything else happens, or null. */
export function refuseCaller(caller: Caller, rules: CallerRules): Refusal | null {
  if (rules.hosts && !hostAllowed(caller.host, rules.hosts)) return MISDIRECTED
  if (crossSiteWrite(caller, rules)) return CROSS_SITE
  return null
}

export const callerOfRequest = (req: Request): Caller => ({
  method: req.method,
  host: req.headers.get('host'),
  origin: req.headers.get('origin'),
  fetchSite: req.headers.get('sec-fetch-site'),
  req,
})

/** The contract's failure body for a refusal. */
export const refusalBody = (r: Refusal) => JSON.stringify({ success: false, message: r.message })
