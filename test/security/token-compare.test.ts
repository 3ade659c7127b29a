import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { tokenMatches } from '../../runtime/token-guard.ts'

/**
 * runtime/token-guard.ts compares in constant time: both sides are hashed (SHA-256) and the
 * digests compared with crypto.timingSafeEqual, so the time does not depend on how many
 * leading characters of a guess are right, nor on the secret's length. A plain `===` (or a
 * loop that stops at the first difference) would answer a guess that is wrong in its first
 * character much sooner than one wrong only in its last: that difference is what we measure.
 */

const compare = suite('tokenMatches timing')

// Long tokens make an early-exit comparison's advantage large (microseconds) next to timer noise.
const SIZE = 1 << 20
const secret = 'k'.repeat(SIZE)
const wrongFirst = `x${'k'.repeat(SIZE - 1)}`
const wrongLast = `${'k'.repeat(SIZE - 1)}x`

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

/** Time of `rounds` batches of 4 calls each, interleaved so that machine load hits both alike. */
function timings(rounds: number) {
  const first: number[] = []
  const last: number[] = []
  for (let i = 0; i < rounds; i++) {
    for (const [guess, into] of (i % 2 ? [[wrongFirst, first], [wrongLast, last]] : [[wrongLast, last], [wrongFirst, first]]) as Array<[string, number[]]>) {
      const t0 = performance.now()
      for (let k = 0; k < 4; k++) if (tokenMatches(guess, secret)) throw new Error('a wrong guess matched')
      into.push(performance.now() - t0)
    }
  }
  return { first: median(first), last: median(last) }
}

compare('a guess wrong in its first character takes as long as one wrong in its last', () => {
  timings(5) // warm-up
  const { first, last } = timings(41)
  const ratio = last / Math.max(first, 1e-6)
  assert.ok(ratio > 0.5 && ratio < 2,
    `wrong-last / wrong-first = ${ratio.toFixed(2)} (medians ${last.toFixed(3)} ms vs ${first.toFixed(3)} ms): the comparison exits early`)
})

compare('guesses of any length are answered, none of them matches', () => {
  for (const guess of ['', 'k', secret.slice(0, 16), `${secret}k`, secret.toUpperCase()]) assert.not.ok(tokenMatches(guess, secret))
  assert.ok(tokenMatches(secret, secret))
})

compare.run()
