import { BufferJSON, initAuthCreds } from '@whiskeysockets/baileys'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseBufferJson, stringifyBufferJson } from '../../store/buffer-json.ts'

const baileysText = (v: unknown) => JSON.stringify(v, BufferJSON.replacer)
const baileysValue = (t: string) => JSON.parse(t, BufferJSON.reviver)

/** The value, or that it threw (the replacer throws on some odd inputs: both must). */
function outcome<T>(fn: () => T): { value: T } | { threw: true } {
  try { return { value: fn() } } catch { return { threw: true } }
}

/** What auth values hold, and the odd things a value could hold, nested. */
const leaf = fc.oneof(
  fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a).subarray(1)),
  fc.uint8Array({ maxLength: 8 }).map((a) => ({ type: 'Buffer', data: Buffer.from(a).toString('base64') })),
  fc.uint8Array({ maxLength: 8 }).map((a) => ({ type: 'Buffer', data: [...a] })),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Object.fromEntries([...a].map((b, i) => [String(i), b]))),
  fc.constant({ '1x': 3, 2: 4 }), fc.constant({ 0: 1, a: 2 }), fc.constant({ 0: '1' }),
  fc.date({ noInvalidDate: true }), fc.constant(() => 1), fc.constant(Symbol('s')),
  fc.constant(new Map([[1, 2]])), fc.constant(Object(5)), fc.constant(Object('s')),
  fc.constant({ toJSON: () => ({ replaced: Buffer.from([1, 2]) }) }),
  fc.constant(new Uint16Array([1, 300])),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'type', 'data', '0', '12', 'toJSON')), tie('value'), { maxKeys: 5 }),
}))

const enc = suite('stringifyBufferJson')

enc('writes exactly the text of JSON.stringify with BufferJSON.replacer', () => {
  fc.assert(fc.property(value, (v) => {
    assert.equal(outcome(() => stringifyBufferJson(v)), outcome(() => baileysText(v)))
  }), { numRuns: 3_000 })
})

enc('writes real auth values as Baileys does (credentials, a Signal session)', () => {
  const creds = initAuthCreds()
  assert.is(stringifyBufferJson(creds), baileysText(creds))
  const session = { _sessions: { a: { registrationId: 7, currentRatchet: { rootKey: 'AAAA', previousCounter: 3 }, chains: { b: { chainKey: { counter: 4, key: 'x' }, messageKeys: { 1: 'k1', 2: 'k2' } } } } }, version: 'v1' }
  assert.is(stringifyBufferJson(session), baileysText(session))
})

enc.run()

const dec = suite('parseBufferJson')

dec('reads back exactly what JSON.parse with BufferJSON.reviver does', () => {
  fc.assert(fc.property(value, (v) => {
    // Both the form Baileys writes and plain JSON (a Buffer as its array of numbers).
    for (const made of [outcome(() => baileysText(v)), outcome(() => JSON.stringify(v))]) {
      const text = 'value' in made ? made.value : undefined
      if (text === undefined) continue
      const want = baileysValue(text)
      const got = parseBufferJson(text)
      assert.ok(isDeepStrictEqual(got, want), text)
    }
  }), { numRuns: 3_000 })
})

dec('reads any JSON text as the reviver does, "__proto__" keys included', () => {
  fc.assert(fc.property(fc.json(), (text) => {
    assert.ok(isDeepStrictEqual(parseBufferJson(text), baileysValue(text)), text)
  }), { numRuns: 2_000 })
  const text = '{"__proto__":{"type":"Buffer","data":"AQI="},"a":{"__proto__":[1]}}'
  const got = parseBufferJson(text) as Record<string, unknown>
  assert.is(Object.getPrototypeOf(got), Object.prototype)
  assert.ok(isDeepStrictEqual(got, baileysValue(text)))
  assert.equal(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, Buffer.from([1, 2]))
})

dec('reads real credentials back to what Baileys reads', () => {
  const text = baileysText(initAuthCreds())
  assert.ok(isDeepStrictEqual(parseBufferJson(text), baileysValue(text)))
})

dec.run()
