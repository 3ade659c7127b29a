import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Server } from 'node:http'
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { json } from '../contract/http.ts'
import { callerOfRequest, type Caller, type Refusal } from './caller-guard.ts'

/**
 * Hono carries the platform part: the Node adapter, security headers and the dashboard's
 * static files. Every API route goes to our own router, which knows only Request/Response.
 * `refuse` (runtime/caller-guard.ts) sees every request first, static files included.
 */
export function createHttpServer(
  dispatch: (req: Request) => Promise<Response>,
  webRoot: string,
  refuse: (caller: Caller) => Refusal | null = () => null,
): Server {
  const app = new Hono()
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin', contentSecurityPolicy: {
    defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], styleSrc: ["'self'"], scriptSrc: ["'self'"],
  } }))
  app.use('*', async (c, next) => {
    const refusal = refuse(callerOfRequest(c.req.raw))
    if (refusal) return json(refusal.status, { success: false, message: refusal.message })
    await next()
  })
  app.get('/', serveStatic({ root: webRoot, path: 'index.html' }))
  app.get('/web/*', serveStatic({ root: webRoot, rewriteRequestPath: (p) => p.replace(/^\/web/, '') }))
  app.all('*', (c) => dispatch(c.req.raw))
  // A request without Host (HTTP/1.0) would otherwise be a bare 400 from the adapter; with this
  // stand-in for its URL it reaches `refuse`, which reads the real (absent) header.
  return createAdaptorServer({ fetch: app.fetch, hostname: 'localhost' }) as Server
}
