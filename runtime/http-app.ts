import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Server } from 'node:http'
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'

/**
 * Hono carries the platform part: the Node adapter, security headers and the dashboard's
 * static files. Every API route goes to our own router, which knows only Request/Response.
 */
export function createHttpServer(dispatch: (req: Request) => Promise<Response>, webRoot: string): Server {
  const app = new Hono()
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin', contentSecurityPolicy: {
    defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], styleSrc: ["'self'"], scriptSrc: ["'self'"],
  } }))
  app.get('/', serveStatic({ root: webRoot, path: 'index.html' }))
  app.get('/web/*', serveStatic({ root: webRoot, rewriteRequestPath: (p) => p.replace(/^\/web/, '') }))
  app.all('*', (c) => dispatch(c.req.raw))
  return createAdaptorServer({ fetch: app.fetch }) as Server
}
