/**
 * A payload hash as a ballot keeps it for the tie-break: payloadHash's 32 lowercase hex digits
 * become the 16 bytes they spell, one character each, which compare in the same order (and,
 * unlike a slice of the store's scan text, keep nothing else alive). Anything else is kept as is.
 */
export function tieBreak(hash: string): string {
  if (hash.length !== 32) return hash
  // By hand, not a regular expression and a Buffer: this runs for every counted row of a start.
  const b = TIE
  for (let i = 0; i < 16; i++) {
    const hi = nibble(hash.charCodeAt(2 * i)), lo = nibble(hash.charCodeAt(2 * i + 1))
    if ((hi | lo) < 0) return hash
    b[i] = (hi << 4) | lo
  }
  return String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[6]!, b[7]!, b[8]!, b[9]!, b[10]!, b[11]!, b[12]!, b[13]!, b[14]!, b[15]!)
}

const TIE = new Array<number>(16).fill(0)
/** A lowercase hex digit's value; -1 for anything else (payloadHash writes lowercase only). */
export const nibble = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1)

