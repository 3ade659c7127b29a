/*
 * Standard Webhooks secrets: `whsec_` + base64 of the key. Generated from 32 random bytes; a
 * given one must decode to 24-64 bytes, the range the specification asks for.
 */

const PREFIX = 'whsec_'

export function generateSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return PREFIX + btoa(bin)
}

/** null when `secret` is a usable Standard Webhooks secret, else why not (never quoting it). */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(PREFIX)) return `must start with ${PREFIX}`
  const b64 = secret.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return `must be ${PREFIX} followed by base64`
  const bytes = (b64.length / 4) * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0)
  if (bytes < 24 || bytes > 64) return `must hold 24 to 64 bytes of key (${bytes} given)`
  return null
}
