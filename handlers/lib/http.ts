import { HttpError, isJsonType } from '../../contract/http.ts'
import { MAX_JSON_DEPTH } from '../../contract/limits.ts'


function depth(value: unknown, level = 0): number {
  if (level > MAX_JSON_DEPTH || value === null || typeof value !== 'object') return level
  let max = level
  for (const v of Object.values(value)) max = Math.max(max, depth(v, level + 1))
  return max
}


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
  if (depth(body) > MAX_JSON_DEPTH) throw new HttpError(400, `request body nests deeper than ${MAX_JSON_DEPTH} levels`)
  return body as Record<string, unknown>
}
