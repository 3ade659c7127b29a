/**
 * The plaintext of a vote, WhatsApp's `message PollVoteMessage { repeated bytes selectedOptions = 1; }`,
 * written and read by hand: the vote path then needs neither Baileys' generated protobuf code
 * (WAProto costs ~75 ms at start, issue #16) nor protobufjs, and a decode is a few index reads.
 * test/core/votes/vote-message.test.ts compares both directions with Baileys' own
 * `proto.Message.PollVoteMessage`.
 */

/** Field 1, length-delimited: `(1 << 3) | 2`. */
const SELECTED_OPTION_TAG = 0x0a

/** The bytes of a PollVoteMessage, as protobufjs writes them: each option (an empty one too) as field 1, in order. */
export function encodeVoteMessage(selectedOptions: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const o of selectedOptions) size += 1 + varintSize(o.length) + o.length
  const out = new Uint8Array(size)
  let at = 0
  for (const o of selectedOptions) {
    out[at++] = SELECTED_OPTION_TAG
    for (let n = o.length; ; n >>>= 7) {
      if (n < 0x80) { out[at++] = n; break }
      out[at++] = (n & 0x7f) | 0x80
    }
    out.set(o, at)
    at += o.length
  }
  return out
}

/**
 * The selected options of a PollVoteMessage: views into `buf` (Buffers when `buf` is one, as
 * protobufjs gives them). Other fields are skipped, as a protobuf reader does with fields it does
 * not know (wire types 0, 1, 2 and 5). Throws on anything that is not a well-formed message:
 * a field or length running past the end, a varint over 10 bytes, a tag or length over 32 bits,
 * wire types 3, 4, 6 and 7 (groups, deprecated and never in this message, and invalid ones),
 * field number 0, and field 1 not length-delimited. protobufjs reads some of these anyway (it
 * skips field 0, groups and varints of any length, reads field 1 as bytes whatever its wire
 * type, and keeps the low 32 bits of a longer tag or length); none comes out of a WhatsApp
 * client, and the engine records an authenticated plaintext that does not read as a vote as
 * `bad_plaintext`. Everything protobufjs refuses is refused here too (the test checks both).
 */
export function decodeVoteMessage(buf: Uint8Array): Uint8Array[] {
  const selected: Uint8Array[] = []
  const end = buf.length
  let at = 0

  /** A varint of at most `bytes` bytes: 10 for a 64-bit value, 5 for a tag or a length (32 bits, as protobufjs reads them). */
  const varint = (bytes: 5 | 10): number => {
    let value = 0
    for (let i = 0; ; i++) {
      if (at >= end) throw new RangeError('PollVoteMessage: truncated varint')
      if (i === bytes) throw new RangeError(`PollVoteMessage: varint over ${bytes} bytes`)
      const b = buf[at++]!
      // Multiplied, not shifted: past 2³¹ it stays a number, it does not wrap.
      value += (b & 0x7f) * 2 ** (7 * i)
      if (b < 0x80) break
    }
    if (bytes === 5 && value > 0xffffffff) throw new RangeError('PollVoteMessage: tag or length over 32 bits')
    return value
  }
  const skip = (n: number) => {
    if (n > end - at) throw new RangeError('PollVoteMessage: field runs past the end')
    at += n
  }

  while (at < end) {
    const tag = varint(5)
    const field = Math.floor(tag / 8)
    const wireType = tag % 8
    if (field === 0) throw new RangeError('PollVoteMessage: field number 0')
    if (field === 1 && wireType !== 2) throw new RangeError(`PollVoteMessage: selectedOptions with wire type ${wireType}`)
    switch (wireType) {
      case 0: varint(10); break
      case 1: skip(8); break
      case 5: skip(4); break
      case 2: {
        const length = varint(5)
        const from = at
        skip(length)
        if (field === 1) selected.push(buf.subarray(from, at))
        break
      }
      default: throw new RangeError(`PollVoteMessage: wire type ${wireType}`)
    }
  }
  return selected
}

function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) { n >>>= 7; size++ }
  return size
}
