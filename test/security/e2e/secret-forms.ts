/**
 * Secrets as they could appear in a log line: every text form a library or a careless
 * `log.debug({ msg })` would print bytes in (hex, `<Buffer ..>`, base64, JSON Buffer arrays).
 */
import { storedRows } from '../../e2e/harness/store.ts'

export interface Secret { what: string; forms: string[] }

/** The printable forms of `bytes`; short prefixes are avoided so a match is never chance. */
export function forms(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes)
  const b64 = b.toString('base64')
  const out = [
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
    // util.inspect of a Buffer: `<Buffer 20 3c b8 ...>` (libsignal prints sessions this way)
    [...b.subarray(0, 16)].map((x) => x.toString(16).padStart(2, '0')).join(' '),
    b64.replace(/=+$/, ''),
    b.toString('base64url'),
    // JSON of a Buffer ({"type":"Buffer","data":[1,2,...]}) and of a Uint8Array ({"0":1,"1":2,...})
    [...b].join(','),
    [...b.subarray(0, 12)].map((x, i) => `"${i}":${x}`).join(','),
  ]
  return [...new Set(out)]
}

export const secret = (what: string, bytes: Uint8Array): Secret => ({ what, forms: forms(bytes) })
/** A secret text, also as the hex and base64 of its UTF-8 (Baileys prints binary node content as hex). */
export const text = (what: string, value: string): Secret => {
  const utf8 = Buffer.from(value, 'utf8')
  return { what, forms: [...new Set([value, utf8.toString('hex'), utf8.toString('base64').replace(/=+$/, '')])] }
}

const PREFIX = 12

/**
 * Every place in the log holding any form of any secret, with what it leaked (at most `max`).
 * The lines are searched joined without a separator: a line cut in two where the server's
 * output was split into chunks still matches. Forms are indexed by their first 12 characters,
 * so thousands of secrets cost one pass over the text.
 */
export function leaks(lines: string[], secrets: Secret[], max = 20): string[] {
  const index = new Map<string, Array<{ form: string; what: string }>>()
  for (const s of secrets) {
    for (const form of s.forms) {
      if (form.length < PREFIX) throw new Error(`${s.what}: form "${form}" is too short to search for`)
      const k = form.slice(0, PREFIX)
      let list = index.get(k)
      if (!list) index.set(k, (list = []))
      list.push({ form, what: s.what })
    }
  }
  const all = lines.join('')
  const found: string[] = []
  for (let i = 0; i + PREFIX <= all.length && found.length < max; i++) {
    for (const c of index.get(all.slice(i, i + PREFIX)) ?? []) {
      if (!all.startsWith(c.form, i)) continue
      found.push(`${c.what} (as "${c.form.slice(0, 24)}…") in: …${all.slice(Math.max(0, i - 160), i + 60).replace(/\s+/g, ' ')}…`)
      i += c.form.length - 1
      break
    }
  }
  return found
}

const isBufferJson = (v: unknown): v is { type: 'Buffer'; data: string } =>
  typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && typeof (v as { data?: unknown }).data === 'string'

// Property names under which Baileys and libsignal keep private material (public keys excluded).
const PRIVATE = /^(private|privKey|rootKey|seed|keyData|advSecretKey)$/

/**
 * Private key material in a Baileys/libsignal JSON document: Buffers (`{type:'Buffer',data:b64}`)
 * and base64 strings of 32 bytes under private-looking names, anywhere in the tree.
 */
export function privateMaterial(where: string, json: string): Secret[] {
  const out: Secret[] = []
  const walk = (v: unknown, path: string[]) => {
    const name = path[path.length - 1] ?? ''
    const underPrivate = path.some((p) => /^(private|privKey|rootKey|chainKey|messageKeys|senderChainKey|seed|keyData|advSecretKey)$/.test(p))
    const isPublic = path.some((p) => /^(public|pubKey|publicKey|remoteIdentityKey|baseKey|lastRemoteEphemeralKey|signature|accountSignatureKey|details|accountSignature|deviceSignature)$/.test(p))
    if (isBufferJson(v) || typeof v === 'string') {
      const bytes = isBufferJson(v) ? Buffer.from(v.data, 'base64') : /^[A-Za-z0-9+/]{43}=$/.test(v) ? Buffer.from(v, 'base64') : null
      if (bytes && bytes.length >= 16 && !isPublic && (PRIVATE.test(name) || underPrivate)) out.push(secret(`${where} ${path.join('.')}`, bytes))
      return
    }
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k])
  }
  walk(JSON.parse(json), [])
  return out
}

/** Reads what the store of DATA_DIR holds (read-only; the server may be running): creds, keys, secrets, votes. */
export async function storedSecrets(dataDir: string) {
  const creds = (await storedRows<{ json: string }>(dataDir, 'SELECT json FROM auth_creds'))
    .flatMap((r) => privateMaterial('auth_creds', r.json))
  const keys = (await storedRows<{ type: string; id: string; json: string }>(dataDir, "SELECT type, id, json FROM auth_keys WHERE type IN ('session', 'pre-key', 'sender-key', 'app-state-sync-key')"))
    .flatMap((r) => privateMaterial(`auth_keys ${r.type}/${r.id}`, r.json))
  const pollSecrets = (await storedRows<{ id: string; secret: Uint8Array }>(dataDir, 'SELECT id, secret FROM poll_record'))
    .map((r) => secret(`poll ${r.id} messageSecret`, r.secret))
  const votes = (await storedRows<{ seq: number; enc_payload: Uint8Array; enc_iv: Uint8Array }>(dataDir, 'SELECT seq, enc_payload, enc_iv FROM vote_journal'))
    .flatMap((r) => [secret(`vote #${r.seq} encPayload`, r.enc_payload), secret(`vote #${r.seq} encIv`, r.enc_iv)])
  return { creds, keys, pollSecrets, votes }
}
