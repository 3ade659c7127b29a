import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'

/**
 * libsignal's X25519 agreements and key pairs without its DER round trips.
 *
 * libsignal (`libsignal/src/curve.js`) already does X25519 with Node's native crypto, but it
 * wraps every raw key in DER and parses it again at every agreement: OpenSSL's DER decoder costs
 * about 320 µs per private key and 70 µs per public key, against 30 µs for the agreement
 * itself. A new contact's session takes four to six agreements (2–2.5 ms), its first message's
 * ratchet step two more, and each key pair is made as DER and cut back to raw bytes.
 *
 * Here keys go in through JWK (Node imports the raw bytes: about 31 µs private, 8 µs public),
 * and key objects are kept by their bytes, so the account's identity and signed pre-key, a
 * contact's identity key and a ratchet key this process just made are imported once. Same
 * Node primitives, same results: `installNativeX25519` checks that against libsignal's own
 * functions before it replaces them, and anything unusual (a key of the wrong type or length)
 * goes to libsignal's function, which throws as it always did.
 */

/** The two functions of libsignal's curve.js exports object that this replaces. */
export interface X25519Functions {
  generateKeyPair(): { pubKey: Buffer; privKey: Buffer }
  calculateAgreement(pubKey: Buffer, privKey: Buffer): Buffer
}

/** How many calls each path answered, since start (read by tests). */
export interface X25519Counts { native: number; libsignal: number }

export interface NativeX25519 extends X25519Functions {
  readonly counts: X25519Counts
  /** libsignal's own functions: the fallback, and what tests compare with */
  readonly original: X25519Functions
}

/** libsignal's prefix of a public key ("DJB" type) */
const KEY_TYPE = 5
/** key objects kept: an account's long-lived keys plus the ratchet keys of its busiest sessions */
const KEY_CACHE = 512
const OKP = { kty: 'OKP', crv: 'X25519' } as const
/** Node reads only `d` of a private JWK but insists on an `x` string; the public key it derives itself */
const UNUSED_X = 'A'.repeat(43)

/** A least-recently-used map of key objects by key bytes (hex). */
function keyCache(size: number) {
  const keys = new Map<string, KeyObject>()
  return {
    get(id: string, make: () => KeyObject): KeyObject {
      let key = keys.get(id)
      if (key) keys.delete(id)
      else {
        key = make()
        if (keys.size >= size) keys.delete(keys.keys().next().value!)
      }
      keys.set(id, key)
      return key
    },
    put(id: string, key: KeyObject): void {
      if (!keys.has(id) && keys.size >= size) keys.delete(keys.keys().next().value!)
      keys.set(id, key)
    },
  }
}

export function createNativeX25519(original: X25519Functions, cacheSize = KEY_CACHE): NativeX25519 {
  const privates = keyCache(cacheSize)
  const publics = keyCache(cacheSize)
  const counts: X25519Counts = { native: 0, libsignal: 0 }

  const calculateAgreement = (pubKey: Buffer, privKey: Buffer): Buffer => {
    // Only the form libsignal itself produces; the rest gets libsignal's checks and errors.
    if (!Buffer.isBuffer(pubKey) || pubKey.length !== 33 || pubKey[0] !== KEY_TYPE || !Buffer.isBuffer(privKey) || privKey.length !== 32) {
      counts.libsignal++
      return original.calculateAgreement(pubKey, privKey)
    }
    const privateKey = privates.get(privKey.toString('hex'), () =>
      createPrivateKey({ key: { ...OKP, d: privKey.toString('base64url'), x: UNUSED_X }, format: 'jwk' }))
    const raw = pubKey.subarray(1)
    const publicKey = publics.get(raw.toString('hex'), () =>
      createPublicKey({ key: { ...OKP, x: raw.toString('base64url') }, format: 'jwk' }))
    counts.native++
    return diffieHellman({ privateKey, publicKey })
  }

  const generateKeyPair = (): { pubKey: Buffer; privKey: Buffer } => {
    const { privateKey } = generateKeyPairSync('x25519')
    const jwk = privateKey.export({ format: 'jwk' })
    const privKey = Buffer.from(jwk.d!, 'base64url')
    // the agreement that follows a new ratchet key uses it at once
    privates.put(privKey.toString('hex'), privateKey)
    counts.native++
    return { pubKey: Buffer.concat([Buffer.of(KEY_TYPE), Buffer.from(jwk.x!, 'base64url')]), privKey }
  }

  return { calculateAgreement, generateKeyPair, counts, original }
}

const isNative = (f: unknown): f is NativeX25519['calculateAgreement'] & { native: NativeX25519 } =>
  typeof f === 'function' && 'native' in f

/** The file of libsignal's curve.js, in the copy of libsignal Baileys resolves. */
export function libsignalCurvePath(): string {
  const fromBaileys = createRequire(createRequire(import.meta.url).resolve('@whiskeysockets/baileys'))
  return fromBaileys.resolve('libsignal/src/curve.js')
}

/** libsignal's curve.js exports object, exactly as its session code requires it. */
export function libsignalCurve(): X25519Functions & Record<string, unknown> {
  return createRequire(import.meta.url)(libsignalCurvePath()) as X25519Functions & Record<string, unknown>
}

/** The same shared secret from both functions and both directions, for key pairs from each generator. */
function agrees(native: NativeX25519): boolean {
  const { original } = native
  const a = native.generateKeyPair()
  const b = original.generateKeyPair()
  const ab = native.calculateAgreement(b.pubKey, a.privKey)
  return ab.length === 32 && ab.equals(original.calculateAgreement(b.pubKey, a.privKey))
    && ab.equals(original.calculateAgreement(a.pubKey, b.privKey)) && ab.equals(native.calculateAgreement(a.pubKey, b.privKey))
}

export type X25519InstallResult = { installed: true; x25519: NativeX25519 } | { installed: false; reason: string }

let installed: X25519InstallResult | undefined

/**
 * Puts the native functions on libsignal's curve.js exports object, which its session builder
 * and cipher look them up on at every call (`curve.calculateAgreement(…)`); once per process.
 * Never throws: when the layout is not the expected one (an upgrade) or the results differ, it
 * says why and libsignal's own functions stay.
 */
export function installNativeX25519(): X25519InstallResult {
  if (installed) return installed
  try {
    const curve = libsignalCurve()
    if (typeof curve.calculateAgreement !== 'function' || typeof curve.generateKeyPair !== 'function') {
      throw new Error('libsignal curve.js has no calculateAgreement/generateKeyPair')
    }
    // another copy of this module (e.g. sources and dist/ in one process) may have installed it
    const current: unknown = curve.calculateAgreement
    if (isNative(current)) {
      installed = { installed: true, x25519: current.native }
      return installed
    }
    const x25519 = createNativeX25519({ calculateAgreement: curve.calculateAgreement, generateKeyPair: curve.generateKeyPair })
    if (!agrees(x25519)) throw new Error('native X25519 disagrees with libsignal')
    curve.calculateAgreement = Object.assign(x25519.calculateAgreement, { native: x25519 })
    curve.generateKeyPair = x25519.generateKeyPair
    installed = { installed: true, x25519 }
  } catch (err) {
    installed = { installed: false, reason: (err as Error).message }
  }
  return installed
}
