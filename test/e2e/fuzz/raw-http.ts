/**
 * HTTP/1.1 over a bare TCP socket, so a fuzzer can send what fetch and node:http refuse to:
 * raw bytes in the request line, broken headers, lying framing. One request per connection
 * (`Connection: close`), read until the server closes it.
 */
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export type RawOutcome =
  | { kind: 'response'; response: RawResponse }
  /** the server closed the connection without answering */
  | { kind: 'closed' }
  | { kind: 'timeout' }

export function sendRaw(port: number, request: Buffer, timeoutMs = 5000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = connect({ host: '127.0.0.1', port })
    let settled = false
    const finish = (outcome: RawOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs)
    socket.on('connect', () => {
      // the server may answer (and close) before it has read everything: that is not an error
      socket.write(request, () => undefined)
    })
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const response = parseResponse(Buffer.concat(chunks))
      finish(response ? { kind: 'response', response } : { kind: 'closed' })
    })
  })
}

/** The final response in `raw` (1xx interim responses skipped), or null if there is none. */
export function parseResponse(raw: Buffer): RawResponse | null {
  let rest = raw
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) return null
    const head = rest.subarray(0, end).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')
    if (!m) return null
    const status = Number(m[1])
    const headers: Record<string, string> = {}
    for (const line of head.slice(1)) {
      const i = line.indexOf(':')
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
    }
    rest = rest.subarray(end + 4)
    if (status >= 100 && status < 200) continue
    let body = rest
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(rest)
    else if (headers['content-length'] !== undefined) body = rest.subarray(0, Number(headers['content-length']))
    return { status, headers, body }
  }
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = data.indexOf('\r\n', at)
    if (eol < 0) break
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16)
    if (!Number.isFinite(size) || size <= 0) break
    out.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

/** Bytes of one request: the request line and headers as latin1, the body as given. */
export function buildRequest(method: string, target: Buffer, headers: Array<[string, string]>, body: Buffer): Buffer {
  const head = Buffer.concat([
    Buffer.from(`${method} `, 'latin1'), target, Buffer.from(' HTTP/1.1\r\n', 'latin1'),
    ...headers.map(([k, v]) => Buffer.from(`${k}: ${v}\r\n`, 'latin1')),
    Buffer.from('\r\n', 'latin1'),
  ])
  return Buffer.concat([head, body])
}

export function chunked(body: Buffer): Buffer {
  if (!body.length) return Buffer.from('0\r\n\r\n')
  const parts: Buffer[] = []
  for (let at = 0; at < body.length; at += 4096) {
    const piece = body.subarray(at, at + 4096)
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}
