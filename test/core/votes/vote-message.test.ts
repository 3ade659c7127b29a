import { proto } from '@whiskeysockets/baileys'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { decodeVoteMessage, encodeVoteMessage } from '../../../core/votes/vote-message.ts'

/**
 * The hand-written PollVoteMessage codec against Baileys' generated one (protobufjs): the same
 * bytes out, the same options back, unknown fields skipped alike, and every input protobufjs
 * refuses refused too. Where they differ (malformed input protobufjs accepts) is stated below.
 */

const RUNS = 500
const PollVote = proto.Message.PollVoteMessage
const hex = (list: Uint8Array[]) => list.map((b) => Buffer.from(b).toString('hex'))
const theirs = (buf: Uint8Array) => hex(PollVote.decode(buf).selectedOptions ?? [])
const ours = (buf: Uint8Array) => hex(decodeVoteMessage(buf))
const outcome = (decode: (buf: Uint8Array) => string[], buf: Uint8Array): string[] | 'throws' => {
  try { return decode(buf) } catch { return 'throws' }
}

// Option lists: mostly sha256 hashes as WhatsApp sends them, also empty and long (multi-byte lengths) ones.
const option = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }))
const options = fc.array(option, { maxLength: 14 })

// --- a minimal protobuf writer for the test's own unknown fields
const varint = (n: number): number[] => {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80)
  out.push(n)
  return out
}
const tag = (field: number, wireType: number) => varint(field * 8 + wireType)
/** An unknown field (number 2…2²⁹-1) of wire type 0, 1, 2 or 5, as bytes. */
const unknownField = fc.tuple(fc.integer({ min: 2, max: 2 ** 29 - 1 }), fc.constantFrom(0, 1, 2, 5), fc.uint8Array({ maxLength: 200 }), fc.nat())
  .map(([field, wt, bytes, n]) => {
    if (wt === 0) return [...tag(field, 0), ...varint(n)]
    if (wt === 1) return [...tag(field, 1), ...bytes.slice(0, 8), ...new Array(Math.max(0, 8 - bytes.length)).fill(7)]
    if (wt === 5) return [...tag(field, 5), 1, 2, 3, 4]
    return [...tag(field, 2), ...varint(bytes.length), ...bytes]
  })

const codec = suite('PollVoteMessage codec')

codec('encodes byte for byte as protobufjs, and each side decodes the other', () => {
  fc.assert(fc.property(options, (list) => {
    const mine = encodeVoteMessage(list)
    const baileys = PollVote.encode({ selectedOptions: list }).finish()
    assert.equal(Buffer.from(mine).toString('hex'), Buffer.from(baileys).toString('hex'))
    assert.equal(ours(baileys), hex(list))
    assert.equal(theirs(mine), hex(list))
  }), { numRuns: RUNS })
})

codec('an empty vote (a retraction) is zero bytes, and zero bytes are no options', () => {
  assert.is(encodeVoteMessage([]).length, 0)
  assert.equal(decodeVoteMessage(new Uint8Array(0)), [])
  assert.is(PollVote.encode({ selectedOptions: [] }).finish().length, 0)
})

codec('decoded options are views of a Buffer input, as protobufjs gives them', () => {
  const buf = Buffer.from(encodeVoteMessage([Buffer.alloc(32, 1), Buffer.alloc(0)]))
  const got = decodeVoteMessage(buf)
  assert.ok(got.every((o) => Buffer.isBuffer(o)))
  assert.is(got[0]!.buffer, buf.buffer)
  assert.equal(got.map((o) => o.length), [32, 0])
})

codec('unknown fields of wire types 0, 1, 2 and 5 are skipped, wherever they are', () => {
  fc.assert(fc.property(options, fc.array(fc.array(unknownField, { maxLength: 3 }), { maxLength: 16 }), (list, extras) => {
    const bytes: number[] = []
    list.forEach((o, i) => {
      for (const f of extras[i] ?? []) bytes.push(...f)
      bytes.push(...tag(1, 2), ...varint(o.length), ...o)
    })
    for (const f of extras[list.length] ?? []) bytes.push(...f)
    const buf = Buffer.from(bytes)
    assert.equal(ours(buf), hex(list))
    assert.equal(theirs(buf), hex(list))
  }), { numRuns: RUNS })
})

codec('a message cut anywhere inside a field throws, as in protobufjs; cut between fields it is the options before', () => {
  fc.assert(fc.property(fc.array(option, { minLength: 1, maxLength: 6 }), fc.array(unknownField, { maxLength: 3 }), (list, extras) => {
    const whole = Buffer.from([...extras.flat(), ...encodeVoteMessage(list)])
    for (let cut = 0; cut < whole.length; cut++) {
      const part = whole.subarray(0, cut)
      assert.equal(outcome(ours, part), outcome(theirs, part), `cut at ${cut} of ${whole.length}`)
    }
  }), { numRuns: 100 })
})

// Bytes that are tags, lengths and varint continuations more often than uniform bytes are.
const protobufish = fc.array(fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x01, 0x02, 0x08, 0x0a, 0x0b, 0x0c, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x7f, 0x80, 0xff)), { maxLength: 40 })
  .map((a) => Uint8Array.from(a))

codec('random bytes: what protobufjs refuses is refused; what both read, both read alike', () => {
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), protobufish), (buf) => {
    const b = Buffer.from(buf)
    const them = outcome(theirs, b)
    const us = outcome(ours, b)
    if (them === 'throws') assert.is(us, 'throws', Buffer.from(buf).toString('hex'))
    else if (us !== 'throws') assert.equal(us, them)
  }), { numRuns: 5000 })
})

codec('truncation, overflow and bad wire types throw (both refuse these)', () => {
  const bad: Array<[string, number[]]> = [
    ['a length past the end', [0x0a, 0x05, 1, 2]],
    ['a length of 2³² − 1', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]],
    ['a tag cut mid-varint', [0x0a, 0x00, 0x80]],
    ['a length cut mid-varint', [0x0a, 0x80]],
    ['an unknown fixed64 cut short', [0x11, 1, 2, 3]],
    ['an unknown fixed32 cut short', [0x15, 1, 2]],
    ['an unknown varint cut short', [0x10, 0xff]],
    ['an unknown bytes field past the end', [0x12, 0x03, 1]],
    ['wire type 6', [0x16, 0]],
    ['wire type 7', [0x17, 0]],
  ]
  for (const [what, bytes] of bad) {
    assert.is(outcome(ours, Buffer.from(bytes)), 'throws', what)
    assert.is(outcome(theirs, Buffer.from(bytes)), 'throws', `protobufjs: ${what}`)
  }
})

codec('where protobufjs reads malformed input anyway, this codec refuses it (no WhatsApp client writes these)', () => {
  const refused: Array<[string, number[]]> = [
    // protobufjs skips a field numbered 0, which the protobuf encoding forbids
    ['field number 0', [0x00, 0x01, 0x0a, 0x00]],
    // protobufjs reads field 1 as bytes whatever its wire type: here the varint 2 as a length
    ['selectedOptions as a varint', [0x08, 0x02, 0x61, 0x62]],
    // protobufjs skips groups (wire types 3 … 4); none is in this message
    ['a group', [0x13, 0x14, 0x0a, 0x00]],
    // protobufjs skips a varint of any length; 10 bytes hold 64 bits
    ['an 11-byte varint', [0x10, ...new Array(10).fill(0xff), 0x01]],
  ]
  for (const [what, bytes] of refused) {
    assert.is(outcome(ours, Buffer.from(bytes)), 'throws', what)
    assert.is.not(outcome(theirs, Buffer.from(bytes)), 'throws', `protobufjs reads ${what}`)
  }
})

codec.run()
