import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
// the product's socket module: loading it is what installs the native functions
import '../../../core/whatsapp/baileys-socket.ts'
import { createNativeX25519, installNativeX25519, libsignalCurve, type NativeX25519, type X25519Functions } from '../../../core/whatsapp/native-x25519.ts'

/**
 * libsignal's X25519 agreements and key pairs, replaced by ones without DER round trips
 * (core/whatsapp/native-x25519.ts): they must give libsignal's results for every input, and
 * must really be what libsignal's session code calls, so that a Baileys or libsignal upgrade
 * that routes around them fails here.
 */

interface Libsignal {
  keyhelper: {
    generateIdentityKeyPair(): { pubKey: Buffer; privKey: Buffer }
    generateRegistrationId(): number
    generateSignedPreKey(identity: { pubKey: Buffer; privKey: Buffer }, id: number): { keyId: number; keyPair: { pubKey: Buffer; privKey: Buffer }; signature: Buffer }
    generatePreKey(id: number): { keyId: number; keyPair: { pubKey: Buffer; privKey: Buffer } }
  }
  ProtocolAddress: new (id: string, device: number) => { toString(): string }
  SessionBuilder: new (storage: unknown, addr: unknown) => { initOutgoing(device: unknown): Promise<void> }
  SessionCipher: new (storage: unknown, addr: unknown) => {
    encrypt(data: Buffer): Promise<{ type: number; body: Buffer }>
    decryptPreKeyWhisperMessage(data: Buffer): Promise<Buffer>
    decryptWhisperMessage(data: Buffer): Promise<Buffer>
  }
  SessionRecord: { deserialize(data: unknown): unknown }
}
const fromBaileys = createRequire(createRequire(import.meta.url).resolve('@whiskeysockets/baileys'))
const libsignal = fromBaileys('libsignal') as Libsignal

/** libsignal's own functions, whether or not the native ones are installed yet */
const curve = libsignalCurve()
const original: X25519Functions = 'native' in curve.calculateAgreement
  ? (curve.calculateAgreement as unknown as { native: NativeX25519 }).native.original
  : { calculateAgreement: curve.calculateAgreement, generateKeyPair: curve.generateKeyPair }

/** Deterministic bytes, so a failing case can be run again. */
function bytes(seed: string) {
  let n = 0
  return (len: number): Buffer => {
    const out = Buffer.alloc(len)
    for (let off = 0; off < len; off += 32) createHash('sha256').update(`${seed}:${n++}`).digest().copy(out, off)
    return out.subarray(0, len)
  }
}

/** Both answers (or both exceptions), compared. */
function same(f: (x: X25519Functions) => Buffer, native: NativeX25519, what: string): void {
  const run = (x: X25519Functions) => { try { return { ok: f(x).toString('hex') } } catch (err) { return { threw: `${(err as Error).constructor.name}: ${(err as Error).message}` } } }
  assert.equal(run(native), run(original), what)
}

const equivalence = suite('native X25519 ≡ libsignal curve.js')

equivalence('200 agreements with key pairs from both generators and from random bytes: the same secret', () => {
  const native = createNativeX25519(original, 8) // a small cache: keys are evicted and imported again
  const rnd = bytes('agree')
  for (let i = 0; i < 200; i++) {
    const gen = [native.generateKeyPair, original.generateKeyPair][i % 2]!
    const ours = gen()
    // any 32 bytes are an X25519 private key; public keys are any 32 bytes too
    const theirs = i % 3 === 0 ? { pubKey: Buffer.concat([Buffer.of(5), rnd(32)]), privKey: rnd(32) } : original.generateKeyPair()
    same((x) => x.calculateAgreement(theirs.pubKey, ours.privKey), native, `pair ${i}`)
    same((x) => x.calculateAgreement(ours.pubKey, theirs.privKey), native, `pair ${i}, the other way`)
    if (i % 3) assert.equal(native.calculateAgreement(theirs.pubKey, ours.privKey), native.calculateAgreement(ours.pubKey, theirs.privKey), `pair ${i}: both sides agree`)
  }
  assert.ok(native.counts.native >= 400, 'the native path answered')
  assert.is(native.counts.libsignal, 0)
})

equivalence('key pairs: a 33-byte public key of type 5 that is the private key\'s own', () => {
  const native = createNativeX25519(original)
  for (let i = 0; i < 20; i++) {
    const { pubKey, privKey } = native.generateKeyPair()
    assert.ok(Buffer.isBuffer(pubKey) && Buffer.isBuffer(privKey))
    assert.is(pubKey.length, 33)
    assert.is(pubKey[0], 5)
    assert.is(privKey.length, 32)
    // the public key libsignal derives (through curve25519-js) from the private one
    assert.equal((curve as unknown as { getPublicFromPrivateKey(k: Buffer): Buffer }).getPublicFromPrivateKey(privKey), pubKey)
  }
})

equivalence('malformed keys throw what libsignal throws', () => {
  const native = createNativeX25519(original)
  const good = original.generateKeyPair()
  const bad: Array<[string, unknown, unknown]> = [
    ['public key of 31 bytes', good.pubKey.subarray(0, 31), good.privKey],
    ['public key of 33 bytes, wrong type', Buffer.concat([Buffer.of(6), good.pubKey.subarray(1)]), good.privKey],
    ['public key not a Buffer', new Uint8Array(good.pubKey), good.privKey],
    ['public key undefined', undefined, good.privKey],
    ['private key of 31 bytes', good.pubKey, good.privKey.subarray(0, 31)],
    ['private key not a Buffer', good.pubKey, new Uint8Array(good.privKey)],
    ['private key undefined', good.pubKey, undefined],
  ]
  for (const [what, pub, priv] of bad) same((x) => x.calculateAgreement(pub as Buffer, priv as Buffer), native, what)
  assert.is(native.counts.native, 0, 'none of them took the native path')
})

const inEffect = suite('native X25519 is what libsignal calls')

/** libsignal storage in memory, records serialised as Baileys stores them (keys come back as new Buffers). */
function party(name: string) {
  const identity = libsignal.keyhelper.generateIdentityKeyPair()
  const registrationId = libsignal.keyhelper.generateRegistrationId()
  const signed = libsignal.keyhelper.generateSignedPreKey(identity, 1)
  const pre = libsignal.keyhelper.generatePreKey(7)
  const sessions = new Map<string, unknown>()
  const copy = (k: { pubKey: Buffer; privKey: Buffer }) => ({ pubKey: Buffer.from(k.pubKey), privKey: Buffer.from(k.privKey) })
  const storage = {
    getOurIdentity: async () => copy(identity),
    getOurRegistrationId: async () => registrationId,
    isTrustedIdentity: async () => true,
    loadPreKey: async (id: number) => (id === pre.keyId ? copy(pre.keyPair) : undefined),
    removePreKey: async () => {},
    loadSignedPreKey: async (id: number) => (id === signed.keyId ? copy(signed.keyPair) : undefined),
    loadSession: async (addr: string) => {
      const s = sessions.get(addr)
      return s === undefined ? undefined : libsignal.SessionRecord.deserialize(JSON.parse(s as string))
    },
    storeSession: async (addr: string, record: { serialize(): unknown }) => { sessions.set(addr, JSON.stringify(record.serialize())) },
  }
  const addr = new libsignal.ProtocolAddress(name, 0)
  const bundle = {
    identityKey: identity.pubKey, registrationId,
    signedPreKey: { keyId: signed.keyId, publicKey: signed.keyPair.pubKey, signature: signed.signature },
    preKey: { keyId: pre.keyId, publicKey: pre.keyPair.pubKey },
  }
  return { storage, addr, bundle }
}

function installed(): NativeX25519 {
  const current = libsignalCurve().calculateAgreement
  assert.ok('native' in current, 'libsignal curve.js calculateAgreement is the native one (installed by core/whatsapp/baileys-socket.ts)')
  return (current as unknown as { native: NativeX25519 }).native
}

inEffect('loading the socket module put the native functions on the exports object libsignal calls through', () => {
  const x = installed()
  assert.is(libsignalCurve().generateKeyPair, x.generateKeyPair)
  const again = installNativeX25519()
  assert.ok(again.installed && again.x25519 === x, 'installing again changes nothing')
})

inEffect('a session set up, ratcheted and used both ways through libsignal takes the native path only', async () => {
  const { counts } = installed()
  const before = { ...counts }
  const alice = party('alice')
  const bob = party('bob')
  await new libsignal.SessionBuilder(alice.storage, bob.addr).initOutgoing(bob.bundle)
  const toBob = new libsignal.SessionCipher(alice.storage, bob.addr)
  const toAlice = new libsignal.SessionCipher(bob.storage, alice.addr)
  const first = await toBob.encrypt(Buffer.from('vote 1'))
  assert.is(first.type, 3, 'a pre-key message: Bob sets the session up')
  assert.is((await toAlice.decryptPreKeyWhisperMessage(first.body)).toString(), 'vote 1')
  // each change of direction is a ratchet step: agreements with freshly made keys
  for (let i = 0; i < 4; i++) {
    const reply = await toAlice.encrypt(Buffer.from(`ack ${i}`))
    assert.is((await toBob.decryptWhisperMessage(reply.body)).toString(), `ack ${i}`)
    const next = await toBob.encrypt(Buffer.from(`vote ${i + 2}`))
    assert.is(next.type, 1)
    assert.is((await toAlice.decryptWhisperMessage(next.body)).toString(), `vote ${i + 2}`)
  }
  // set-up: 3 agreements on each side plus the sending ratchet; every step after it, more
  assert.ok(counts.native - before.native >= 16, `native calls: ${counts.native - before.native}`)
  assert.is(counts.libsignal, before.libsignal, 'nothing fell back to libsignal\'s functions')
})

equivalence.run()
inEffect.run()
