import { timingSafeEqual, createHash } from 'node:crypto'
import { HttpError } from '../contract/http.ts'

/** Compares in constant time; hashing first makes the lengths equal without leaking them. */
export function tokenMatches(given: string | undefined | null, expected: string): boolean {
  if (!given) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** The API token check for HTTP: `Authorization: Bearer <token>`, else 401. */
export function createTokenGuard(token: string | null): ((req: Request) => void) | undefined {
  if (!token) return undefined
  return (req) => {
    const header = req.headers.get('authorization') ?? ''
    const m = /^Bearer\s+(.+)$/i.exec(header)
    if (!tokenMatches(m?.[1]?.trim(), token)) throw new HttpError(401, 'missing or wrong API token (Authorization: Bearer <token>)')
  }
}
