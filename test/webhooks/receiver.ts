import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  id: string
  headers: Record<string, string>
  body: string
  path: string
  at: number
}

export type Answer = (req: Received, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>

/** Reads a whole request as a Received (webhook-id, string headers, body) and hands it on. */
export function readReceived(req: IncomingMessage, then: (r: Received) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
    then({ id: headers['webhook-id'] ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '/', at: Date.now() })
  })
}

/** A webhook receiver on 127.0.0.1 that records every request and answers as `answer` says (204 by default). */
export async function startReceiver(answer: Answer = (_r, res) => { res.writeHead(204).end() }) {
  const requests: Received[] = []
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((req, res) => readReceived(req, (r) => {
    requests.push(r)
    void answer(r, res, req)
  }))
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
