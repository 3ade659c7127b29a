const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

// Random bytes drawn in bulk: one getRandomValues call per 256 ids instead of one per id, which
// cost more than the rest of an event (measured on the vote path with a webhook endpoint).
const pool = new Uint8Array(16 * 256)
let used = pool.length

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
  if (used + 16 > pool.length) {
    crypto.getRandomValues(pool)
    used = 0
  }
  let rand = ''
  for (let i = used; i < used + 16; i++) rand += CROCKFORD[pool[i]! & 31]
  used += 16
  return `${prefix}${time}${rand}`
}
