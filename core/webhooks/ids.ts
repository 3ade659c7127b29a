const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * `prefix` + a ULID: 10 characters of milliseconds, then 16 of crypto randomness (80 bits),
 * so ids sort roughly by creation (easy to read in a receiver's log) and never collide.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = ''
  let t = Math.max(0, Math.floor(now))
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time
    t = Math.floor(t / 32)
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let rand = ''
  for (const b of bytes) rand += CROCKFORD[b & 31]
  return `${prefix}${time}${rand}`
}
