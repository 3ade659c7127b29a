/**
 * Baileys' BufferJSON (its replacer and reviver for JSON.stringify and JSON.parse), the same text
 * and the same values, without a JavaScript call per value. Every Signal session, sender key and
 * pre-key a message touches is decoded and encoded through it: with the reviver, JSON.parse calls
 * back into JavaScript for every value of the record; with the replacer, every Buffer is first
 * turned into an array of numbers by its toJSON, then back into a Buffer, then into base64. Here
 * the parsed tree is walked once, and the tree to stringify is copied once with each Buffer
 * already in base64. test/store/buffer-json.test.ts holds both to Baileys' own, value for value.
 */

const bufferToJson = Buffer.prototype.toJSON

/** JSON.parse(text, BufferJSON.reviver). */
export function parseBufferJson(text: string): unknown {
  return revive(JSON.parse(text))
}

/** JSON.stringify(value, BufferJSON.replacer). */
export function stringifyBufferJson(value: unknown): string {
  // A Signal session is all strings and numbers: the replacer would change nothing in it.
  return JSON.stringify(untouched(value) ? value : prepare('', value))
}

/**
 * Whether the replacer would leave all of `value` as it is: nothing in it is a byte array, calls
 * itself a Buffer, or has a toJSON (whose answer is left to prepare()).
 */
function untouched(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (value instanceof Uint8Array || typeof (value as { toJSON?: unknown }).toJSON === 'function' || (value as { type?: unknown }).type === 'Buffer') return false
  if (Array.isArray(value)) {
    for (const v of value) if (!untouched(v)) return false
    return true
  }
  for (const k of Object.keys(value)) if (!untouched((value as Record<string, unknown>)[k])) return false
  return true
}

/**
 * The reviver's answer for `value`, its children revived first, as JSON.parse's reviver runs
 * (bottom up). Only objects change: `{ type: 'Buffer', data: <base64> }`, and objects whose keys
 * all parse as integers and whose values are all numbers (a Uint8Array that went through plain
 * JSON.stringify), become Buffers.
 */
function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      if (typeof child === 'object' && child !== null) {
        const now = revive(child)
        if (now !== child) value[i] = now
      }
    }
    return value
  }
  const o = value as Record<string, unknown>
  const keys = Object.keys(o)
  for (const k of keys) {
    const child = o[k]
    if (typeof child !== 'object' || child === null) continue
    const now = revive(child)
    // Every key is an own data property (JSON.parse makes "__proto__" one too), so this writes
    // the property, never the prototype.
    if (now !== child) o[k] = now
  }
  if (o.type === 'Buffer' && typeof o.data === 'string') return Buffer.from(o.data, 'base64')
  if (keys.length > 0 && keys.every((k) => !isNaN(parseInt(k, 10)))) {
    const values = Object.values(o)
    if (values.every((v) => typeof v === 'number')) return Buffer.from(values as number[])
  }
  return o
}

/**
 * What JSON.stringify with the replacer would serialise for `value` under `key`, as a tree that
 * plain JSON.stringify writes to the same text: toJSON applied, the replacer applied, then the
 * children the same way. Functions, symbols and undefined become undefined (left out of an
 * object, null in an array, as before); boxed primitives are left for JSON.stringify to unbox.
 */
function prepare(key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    // A Buffer's own toJSON then the replacer: its bytes in base64, without the array of numbers.
    if (Buffer.isBuffer(value) && value.toJSON === bufferToJson) return { type: 'Buffer', data: value.toString('base64') }
    const toJson = (value as { toJSON?: unknown }).toJSON
    if (typeof toJson === 'function') value = toJson.call(value, key)
  } else if (typeof value === 'bigint') {
    const toJson = (value as unknown as { toJSON?: unknown }).toJSON
    if (typeof toJson === 'function') value = toJson.call(value, key)
  }
  const replaced = replace(value)
  // The replacer's { type, data } has only strings below it, which it leaves as they are.
  if (replaced !== value) return replaced
  if (typeof value === 'function' || typeof value === 'symbol') return undefined
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt) return value
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = prepare(String(i), value[i])
    return out
  }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(value)) {
    const v = prepare(k, (value as Record<string, unknown>)[k])
    // `out` is new: an assignment to "__proto__" would set its prototype, not a property.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true })
    else out[k] = v
  }
  return out
}

/** BufferJSON.replacer, as Baileys 7.0.0-rc14 writes it. */
function replace(value: unknown): unknown {
  const v = value as { type?: unknown; data?: unknown } | null | undefined
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || v?.type === 'Buffer') {
    return { type: 'Buffer', data: Buffer.from((v?.data || value) as Uint8Array).toString('base64') }
  }
  return value
}
