import { createPublicKey, verify as ed25519Verify, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { libsignalCurvePath } from './native-x25519.ts'

/**
 * XEdDSA signature checks through the runtime's native Ed25519 instead of pure JavaScript.
 *
 * Every group message (a Signal sender-key `skmsg`) carries an XEdDSA signature that Baileys
 * checks through libsignal (`libsignal/src/curve.js` `verifySignature`), which calls
 * `curve25519-js`'s `verify`: TweetNaCl arithmetic in JavaScript, about 6 ms per message on a
 * 2-core VM and most of the server's CPU per group vote. XEdDSA verification is Ed25519
 * verification with the Montgomery public key u mapped to Edwards y = (u − 1) / (u + 1) and
 * the Edwards sign bit carried in the top bit of the signature's last byte (curve25519-js
 * `curve25519_sign_open`), so `crypto.verify(null, …)` does it in about 0.1 ms.
 *
 * libsignal looks `verify` up on curve25519-js's CommonJS exports object at every call
 * (`curveJs.verify(pubKey, msg, sig)`), so replacing that property, once, at any time before
 * the first message, reaches every caller: Baileys' sender-key check, its signed-prekey checks,
 * libsignal's session setup. No preload flag, no patched file. `test/core/whatsapp/native-xeddsa.test.ts`
 * checks that libsignal's own call takes this path and that both implementations agree.
 */

/** curve25519-js `verify(publicKey, msg, signature)`: true for a valid signature; throws on malformed input. */
export type XeddsaVerify = (publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array) => boolean

/** How many checks each path answered, since start (read by tests and for profiling). */
export interface XeddsaCounts { native: number; js: number }

export interface NativeXeddsaVerify extends XeddsaVerify {
  readonly counts: XeddsaCounts
  /** the pure-JS function this one stands in for, and falls back to */
  readonly js: XeddsaVerify
}

const P = (1n << 255n) - 19n
/** the order of the Ed25519 base point */
const L = (1n << 252n) + 27742317777372353535851937790883648493n
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
/** sender keys sign many messages each: convert each key once (per sign bit) */
const KEY_CACHE = 1024

const leToBigInt = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`)
const bigIntToLe = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse()

function modPow(base: bigint, exp: bigint): bigint {
  let r = 1n
  let b = base % P
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P
    b = (b * b) % P
  }
  return r
}

/**
 * The Ed25519 public key curve25519-js derives from the Montgomery key `pub` to check an XEdDSA
 * signature: y = (u − 1) / (u + 1) with the top bit of u ignored, u taken mod p and 1/0 taken
 * as 0 (as its field arithmetic does), little-endian, `signBit` (0 or 0x80) in bit 255.
 */
export function xeddsaEdwardsKey(pub: Uint8Array, signBit: number): Buffer {
  const le = Buffer.from(pub)
  le[31] &= 0x7f
  const u = leToBigInt(le) % P
  const key = bigIntToLe((((u - 1n + P) % P) * modPow(u + 1n, P - 2n)) % P)
  key[31] |= signBit
  return key
}

/** y = −1, the image of u ≡ 0 */
const Y_MINUS_ONE = bigIntToLe(P - 1n)

/**
 * `xeddsaEdwardsKey` as a KeyObject; undefined, for the JS to answer, for u ≡ 0, whose point
 * (0, −1) with the sign bit set TweetNaCl accepts and RFC 8032 decoders refuse (Deno's does;
 * signatures for it are trivial to forge, but they verify in the JS, so they must here), and
 * for a y that is no curve point (Deno refuses it here, OpenSSL at verify).
 */
function edwardsKeyObject(pub: Uint8Array, signBit: number): KeyObject | undefined {
  const key = xeddsaEdwardsKey(pub, signBit)
  const y = Buffer.from(key)
  y[31] &= 0x7f
  if (y.equals(Y_MINUS_ONE)) return undefined
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
}

const isUint8Array = (x: unknown): x is Uint8Array => Object.prototype.toString.call(x) === '[object Uint8Array]'

/**
 * A drop-in for curve25519-js `verify` that answers as `js` does for every input: malformed
 * arguments (not Uint8Arrays, a signature not 64 bytes, a key not 32) and the keys native
 * decoders may treat differently go to `js` itself; a signature scalar S ≥ L, which TweetNaCl
 * uses as S mod L and native Ed25519 rejects, is reduced first.
 */
export function createNativeXeddsaVerify(js: XeddsaVerify, cacheSize = KEY_CACHE): NativeXeddsaVerify {
  /** Montgomery key hex + sign bit → Edwards KeyObject, or null: ask the JS; least recently used first */
  const keys = new Map<string, KeyObject | null>()
  const counts: XeddsaCounts = { native: 0, js: 0 }
  const fallback = (publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array) => {
    counts.js++
    return js(publicKey, msg, signature)
  }
  const keyFor = (publicKey: Uint8Array, signBit: number): KeyObject | null => {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('hex') + signBit
    let key = keys.get(id)
    if (key !== undefined) {
      keys.delete(id)
    } else {
      key = edwardsKeyObject(publicKey, signBit) ?? null
      if (keys.size >= cacheSize) keys.delete(keys.keys().next().value!)
    }
    keys.set(id, key)
    return key
  }
  const verify = (publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean => {
    if (!isUint8Array(msg) || !isUint8Array(signature) || !isUint8Array(publicKey) || signature.length !== 64 || publicKey.length !== 32) {
      return fallback(publicKey, msg, signature) // throws as curve25519-js does
    }
    const signBit = signature[63] & 0x80
    const key = keyFor(publicKey, signBit)
    if (!key) return fallback(publicKey, msg, signature)
    const sig = Buffer.from(signature)
    sig[63] &= 0x7f
    if (sig[63] >= 0x10) {
      const s = leToBigInt(sig.subarray(32))
      if (s >= L) bigIntToLe(s % L).copy(sig, 32)
    }
    counts.native++
    return ed25519Verify(null, msg, key, sig)
  }
  return Object.assign(verify, { counts, js })
}

const isNative = (f: XeddsaVerify): f is NativeXeddsaVerify => 'counts' in f && 'js' in f

/** curve25519-js's exports object, exactly as libsignal (the copy Baileys resolves) requires it. */
export function libsignalCurve25519(): { verify: XeddsaVerify } {
  return createRequire(libsignalCurvePath())('curve25519-js') as { verify: XeddsaVerify }
}

export type InstallResult = { installed: true; verify: NativeXeddsaVerify } | { installed: false; reason: string }

let installed: InstallResult | undefined

/**
 * Replaces curve25519-js's `verify` on the exports object libsignal calls it through; once per
 * process (later calls return the first result). Never throws: when the layout is not the one
 * expected (a Baileys or libsignal upgrade), it says why and the JS check stays.
 */
export function installNativeXeddsa(): InstallResult {
  if (installed) return installed
  try {
    const lib = libsignalCurve25519()
    if (typeof lib.verify !== 'function') throw new Error('curve25519-js has no verify function')
    // another copy of this module (e.g. sources and dist/ in one process) may have installed it
    const verify = isNative(lib.verify) ? lib.verify : createNativeXeddsaVerify(lib.verify)
    lib.verify = verify
    installed = { installed: true, verify }
  } catch (err) {
    installed = { installed: false, reason: (err as Error).message }
  }
  return installed
}
