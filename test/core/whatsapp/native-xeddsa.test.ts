import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG, encodeWAMessage, initAuthCreds } from '@whiskeysockets/baileys'
import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from '@whiskeysockets/baileys'
import { pino } from 'pino'
// the product's socket module: loading it is what installs the native check
import '../../../core/whatsapp/baileys-socket.ts'
import {
  createNativeXeddsaVerify, installNativeXeddsa, libsignalCurve25519, xeddsaEdwardsKey,
  type NativeXeddsaVerify, type XeddsaVerify,
} from '../../../core/whatsapp/native-xeddsa.ts'

/**
 * libsignal checks every group message's XEdDSA signature through curve25519-js `verify`
 * (pure JS); pollwire replaces it with native Ed25519 (core/whatsapp/native-xeddsa.ts). The
 * replacement must answer exactly as the JS does, for every input, and must really be the
 * function libsignal calls: a Baileys or libsignal upgrade that routes around it fails here.
 */

interface Curve25519Js {
  verify: XeddsaVerify
  sign(secretKey: Uint8Array, msg: Uint8Array): Uint8Array
  generateKeyPair(seed: Uint8Array): { public: Uint8Array; private: Uint8Array }
}
const lib = libsignalCurve25519() as unknown as Curve25519Js
/** the pure-JS original, whether or not the native one is installed yet */
const jsVerify: XeddsaVerify = 'js' in lib.verify ? (lib.verify as NativeXeddsaVerify).js : lib.verify
const native = createNativeXeddsaVerify(jsVerify)

const P = (1n << 255n) - 19n
const L = (1n << 252n) + 27742317777372353535851937790883648493n
const le = (n: bigint, bytes = 32) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex').reverse()
const fromLe = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`)

/** Deterministic bytes, so a failing case can be run again. */
function bytes(seed: string) {
  let n = 0
  return (len: number): Buffer => {
    const out = Buffer.alloc(len)
    for (let off = 0; off < len; off += 32) createHash('sha256').update(`${seed}:${n++}`).digest().copy(out, off)
    return out
  }
}

const flipBit = (b: Uint8Array, bit: number) => { const c = Buffer.from(b); c[bit >> 3] ^= 1 << (bit & 7); return c }

/** Both answers (or both exceptions), compared; returns the JS answer. */
function same(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, what: string): boolean {
  const run = (f: XeddsaVerify) => { try { return { ok: f(pub, msg, sig) } } catch (err) { return { threw: `${(err as Error).constructor.name}: ${(err as Error).message}` } } }
  const js = run(jsVerify)
  assert.equal(run(native), js, what)
  return js.ok === true
}

const equivalence = suite('native XEdDSA verify ≡ curve25519-js verify')

const CASES = Number(process.env.XEDDSA_CASES ?? 200)

equivalence(`${CASES} signatures made by curve25519-js sign: valid, and tampered in each place`, () => {
  const rand = bytes('equivalence')
  const variants: Array<[string, (pub: Uint8Array, msg: Buffer, sig: Buffer, other: Uint8Array) => [Uint8Array, Uint8Array, Uint8Array]]> = [
    ['message bit', (pub, msg, sig) => [pub, msg.length ? flipBit(msg, rand(2).readUInt16LE() % (msg.length * 8)) : Buffer.from([0]), sig]],
    ['R bit', (pub, msg, sig) => [pub, msg, flipBit(sig, rand(1)[0] % 256)]],
    ['S bit', (pub, msg, sig) => [pub, msg, flipBit(sig, 256 + (rand(1)[0] % 248))]],
    ['last byte, low bits', (pub, msg, sig) => [pub, msg, flipBit(sig, 504 + (rand(1)[0] % 7))]],
    ['sign bit', (pub, msg, sig) => [pub, msg, flipBit(sig, 511)]],
    ['wrong key', (_pub, msg, sig, other) => [other, msg, sig]],
    ['key bit', (pub, msg, sig) => [flipBit(pub, rand(1)[0] % 255), msg, sig]],
  ]
  let valid = 0
  let other = lib.generateKeyPair(rand(32)).public
  for (let i = 0; i < CASES; i++) {
    const { public: pub, private: priv } = lib.generateKeyPair(rand(32))
    const msg = rand(rand(1)[0])
    const sig = Buffer.from(lib.sign(priv, msg))
    if (same(pub, msg, sig, `case ${i}: valid`)) valid++
    // the key's top bit is not part of u: the same key with it set verifies the same
    if (i % 10 === 0) same(flipBit(pub, 255), msg, sig, `case ${i}: key top bit set`)
    const [name, tamper] = variants[i % variants.length]!
    const t = tamper(pub, msg, sig, other)
    assert.not.ok(same(t[0], t[1], t[2], `case ${i}: ${name}`), `case ${i}: ${name} is rejected`)
    other = pub
  }
  assert.is(valid, CASES, 'curve25519-js accepts its own signatures')
  assert.ok(native.counts.native > 0 && native.counts.native >= CASES * 2, 'the native path answered them')
})

equivalence('a signature scalar S ≥ L (TweetNaCl reduces it, native Ed25519 refuses it) verifies as in JS', () => {
  const rand = bytes('non-canonical-s')
  let checked = 0
  for (let i = 0; i < 6; i++) {
    const { public: pub, private: priv } = lib.generateKeyPair(rand(32))
    const msg = rand(40)
    const sig = Buffer.from(lib.sign(priv, msg))
    const signBit = sig[63]! & 0x80
    const s = fromLe(Buffer.concat([sig.subarray(32, 63), Buffer.from([sig[63]! & 0x7f])]))
    for (let k = 1n; s + k * L < 1n << 255n; k++) {
      const big = Buffer.concat([sig.subarray(0, 32), le(s + k * L)])
      big[63] |= signBit
      assert.ok(same(pub, msg, big, `S + ${k}L`), `S + ${k}L is accepted by both`)
      checked++
      if (k === 1n) assert.not.ok(same(pub, flipBit(msg, 0), big, `S + L, tampered message`))
    }
  }
  assert.ok(checked >= 6)
})

equivalence('malformed arguments throw what curve25519-js throws', () => {
  const { public: pub, private: priv } = lib.generateKeyPair(Buffer.alloc(32, 9))
  const msg = Buffer.from('vote')
  const sig = Buffer.from(lib.sign(priv, msg))
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ['63-byte signature', pub, msg, sig.subarray(0, 63)],
    ['65-byte signature', pub, msg, Buffer.concat([sig, Buffer.alloc(1)])],
    ['31-byte key', pub.subarray(0, 31), msg, sig],
    ['33-byte key (with the 5 prefix)', Buffer.concat([Buffer.from([5]), pub]), msg, sig],
    ['empty key', new Uint8Array(0), msg, sig],
    ['message as a string', pub, 'vote', sig],
    ['signature as an array', pub, msg, Array.from(sig)],
    ['key as an ArrayBuffer', pub.buffer, msg, sig],
    ['undefined message', pub, undefined, sig],
    ['Uint16Array signature', pub, msg, new Uint16Array(32)],
  ]
  for (const [name, k, m, s] of cases) {
    assert.not.ok(same(k as Uint8Array, m as Uint8Array, s as Uint8Array, name), name)
  }
  assert.ok(same(pub, new Uint8Array(msg), new Uint8Array(sig), 'plain Uint8Arrays'))
})

/** The Montgomery u values whose Edwards points are of small order, and non-canonical encodings. */
const SPECIAL_U: Array<[string, bigint]> = [
  ['u = 0', 0n], ['u = 1', 1n], ['u = p − 1', P - 1n], ['u = p', P], ['u = p + 1', P + 1n], ['u = 2^255 − 1', (1n << 255n) - 1n],
  ['order-8 u₁', 325606250916557431795983626356110631294008115727848805560023387167927233504n],
  ['order-8 u₂', 39382357235489614581723060781553021112529911719440698176882885853963445705823n],
  ['u = 2', 2n], ['u = 9 (the base point)', 9n],
]

equivalence('small-order, non-canonical and off-curve keys: forged and random signatures get the JS answer', () => {
  const rand = bytes('special-keys')
  const identity = le(1n) // the neutral point's encoding (x = 0, y = 1)
  let forgedAccepted = 0
  for (const [name, u] of SPECIAL_U) {
    const pub = le(u)
    for (const signBit of [0, 0x80]) {
      // R = identity, S = 0 verifies iff [h]A is the identity: for A of order ≤ 8, h ≡ 0 mod 8
      const a = xeddsaEdwardsKey(pub, signBit)
      for (let tries = 0; tries < 200; tries++) {
        const msg = rand(16)
        const h = fromLe(createHash('sha512').update(identity).update(a).update(msg).digest()) % L
        if (h % 8n !== 0n) continue
        const sig = Buffer.concat([identity, Buffer.alloc(32)])
        sig[63] |= signBit
        if (same(pub, msg, sig, `${name}, sign ${signBit}: forged`)) forgedAccepted++
        break
      }
      same(pub, rand(16), Buffer.concat([rand(63), Buffer.from([signBit])]), `${name}, sign ${signBit}: random signature`)
    }
  }
  assert.ok(forgedAccepted >= 4, `TweetNaCl accepts forgeries for small-order keys (${forgedAccepted}): the cases above test something`)
  for (let i = 0; i < 40; i++) {
    same(rand(32), rand(24), rand(64), `random key ${i}`) // about half are no curve point
  }
})

equivalence('keys evicted from the cache verify again', () => {
  const small = createNativeXeddsaVerify(jsVerify, 2)
  const rand = bytes('lru')
  const signed = Array.from({ length: 3 }, () => {
    const { public: pub, private: priv } = lib.generateKeyPair(rand(32))
    const msg = rand(20)
    return { pub, msg, sig: lib.sign(priv, msg) }
  })
  for (let round = 0; round < 3; round++) {
    for (const { pub, msg, sig } of signed) assert.ok(small(pub, msg, sig))
  }
  assert.is(small.counts.js, 0)
})

equivalence.run()

const inEffect = suite('native XEdDSA verify is what libsignal calls')

const log = pino({ level: 'silent' })
const GROUP = '120363000000000001@g.us'
const VOTER = '80000000001@lid'

/** A Signal repository as Baileys builds it, over keys in memory. */
function peer() {
  const data = new Map<string, unknown>()
  const store: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const out: { [id: string]: SignalDataTypeMap[T] } = {}
      for (const id of ids) {
        const v = data.get(`${type}:${id}`)
        if (v !== undefined) out[id] = v as SignalDataTypeMap[T]
      }
      return out
    },
    async set(set: SignalDataSet) {
      for (const [type, rows] of Object.entries(set)) {
        for (const [id, v] of Object.entries(rows ?? {})) {
          if (v === null) data.delete(`${type}:${id}`)
          else data.set(`${type}:${id}`, v)
        }
      }
    },
  }
  const keys = addTransactionCapability(store, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
  return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: initAuthCreds(), keys }, log, async () => [])
}

/** What libsignal calls now: the native check if loading the socket module installed it. */
function installed(): NativeXeddsaVerify {
  const current = libsignalCurve25519().verify
  assert.ok('counts' in current && 'js' in current,
    'curve25519-js verify, as libsignal requires it, is the native check (installed by core/whatsapp/baileys-socket.ts)')
  return current as NativeXeddsaVerify
}

inEffect('loading the socket module put the native check on the exports object libsignal calls through', () => {
  const verify = installed()
  assert.is(verify.js, jsVerify)
  assert.is(installNativeXeddsa().installed, true)
  assert.is(libsignalCurve25519().verify, verify, 'installing again changes nothing')
})

inEffect('a group message through Baileys\' own Signal repository is verified natively, and a forged one refused', async () => {
  const { counts } = installed()
  const sender = peer()
  const receiver = peer()
  const first = await sender.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage({ conversation: 'hi' }) })
  await receiver.processSenderKeyDistributionMessage({
    authorJid: VOTER, item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: first.senderKeyDistributionMessage },
  })
  const messages: Uint8Array[] = []
  for (const n of [1, 2, 3]) {
    messages.push((await sender.encryptGroupMessage({ group: GROUP, meId: VOTER, data: encodeWAMessage({ conversation: `vote ${n}` }) })).ciphertext)
  }

  const before = { ...counts }
  for (const msg of messages.slice(0, 2)) {
    const plain = await receiver.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg })
    assert.ok(plain.length > 0)
  }
  assert.is(counts.native - before.native, 2, 'each skmsg signature was checked by the native path')
  assert.is(counts.js - before.js, 0, 'none fell back to the JS')

  const forged = flipBit(messages[2]!, messages[2]!.length * 8 - 100) // inside the signature's S
  await receiver.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: forged }).then(
    () => assert.unreachable('a forged signature must be refused'),
    (err: Error) => assert.match(err.message, /signature/i))
  assert.is(counts.native - before.native, 3, 'the forged one was refused by the native path')
  const plain = await receiver.decryptGroupMessage({ group: GROUP, authorJid: VOTER, msg: messages[2]! })
  assert.ok(plain.length > 0, 'the genuine one still decrypts')
})

inEffect.run()
