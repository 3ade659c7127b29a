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

/** Nesting deeper than this is an attack, not a poll. */
const MAX_DEPTH = 32

function depth(value: unknown, level = 0): number {
  if (level > MAX_DEPTH || value === null || typeof value !== 'object') return level
  let max = level
  for (const v of Object.values(value)) max = Math.max(max, depth(v, level + 1))
  return max
}

/**
 * Whether a Content-Type header says JSON. A browser sends a body cross-site without asking
 * first only as text/plain, a form, or with no type at all (no-cors fetch of a Blob), so a
 * missing type is not JSON either.
 */
export const isJsonType = (type: string | null) => /^application\/([^;,\s]+\+)?json\s*(;|$)/i.test(type ?? '')

/** The body as a JSON object, or a 400 that says what is wrong with it (415 unless declared JSON). */
export async function readJsonObject(req: Request): Promise<Record<string, unknown>> {
  if (!isJsonType(req.headers.get('content-type'))) {
    throw new HttpError(415, 'request body must be application/json (Content-Type: application/json)')
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await req.arrayBuffer())
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8')
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'request body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'request body must be a JSON object')
  }
  if (depth(body) > MAX_DEPTH) throw new HttpError(400, `request body nests deeper than ${MAX_DEPTH} levels`)
  return body as Record<string, unknown>
}
