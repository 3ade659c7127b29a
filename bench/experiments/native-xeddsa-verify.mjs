// Experiment, not used by the server: libsignal's XEd25519 signature check (every group
// message, sender-key-message.js → libsignal/src/curve.js → curve25519-js, pure JavaScript,
// about 6 ms here) through Node's native Ed25519 (about 0.1 ms). XEdDSA verification is
// Ed25519 verification with the Montgomery public key u mapped to Edwards y = (u-1)/(u+1)
// and the sign bit carried in the signature's last byte (curve25519-js curve25519_sign_open).
// It must run before anything imports Baileys, which copies verifySignature at import:
//   BENCH_STACK_PRELOAD=./bench/experiments/native-xeddsa-verify.mjs npm run bench -- stack
import { createPublicKey, verify } from 'node:crypto'
import { createRequire } from 'node:module'

const curve = createRequire(import.meta.url)('libsignal/src/curve')
const P = (1n << 255n) - 19n
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
/** @param {bigint} b @param {bigint} e */
const modpow = (b, e) => { let r = 1n; b %= P; for (; e > 0n; e >>= 1n) { if (e & 1n) r = (r * b) % P; b = (b * b) % P } return r }
/** @type {Map<string, import('node:crypto').KeyObject>} sender keys repeat: convert each once */
const keys = new Map()

/** @param {Buffer} pub 32-byte Curve25519 key @param {number} signBit */
function edwardsKey(pub, signBit) {
  const id = pub.toString('hex') + signBit
  let key = keys.get(id)
  if (!key) {
    const le = Buffer.from(pub)
    le[31] &= 127
    const u = BigInt(`0x${Buffer.from(le).reverse().toString('hex')}`)
    const y = (((u - 1n + P) % P) * modpow(u + 1n, P - 2n)) % P
    const out = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse()
    out[31] |= signBit
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, out]), format: 'der', type: 'spki' })
    keys.set(id, key)
  }
  return key
}

const original = curve.verifySignature
/** @param {Uint8Array} pubKey @param {Uint8Array} msg @param {Uint8Array} sig @param {boolean} [isInit] */
curve.verifySignature = function verifySignature(pubKey, msg, sig, isInit) {
  let pk = Buffer.from(pubKey)
  if (pk.length === 33 && pk[0] === 5) pk = pk.subarray(1)
  if (isInit || pk.length !== 32 || !msg || !sig || sig.byteLength !== 64) return original(pubKey, msg, sig, isInit)
  const s = Buffer.from(sig)
  const signBit = s[63] & 128
  s[63] &= 127
  return verify(null, Buffer.from(msg), edwardsKey(pk, signBit), s)
}
