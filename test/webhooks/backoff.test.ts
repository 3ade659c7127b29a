import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GIVE_UP_AFTER_MS, giveUpAt, nextDelay, retryAt } from '../../core/webhooks/backoff.ts'

const H = 3_600_000
const backoff = suite('webhook backoff')

backoff('about 5 s, 30 s, 2 min, 10 min, 1 h, then hourly', () => {
  const mid = () => 0.5
  assert.equal([1, 2, 3, 4, 5, 6, 7, 30].map((a) => nextDelay(a, mid)), [5_000, 30_000, 120_000, 600_000, H, H, H, H])
})

backoff('jitter stays within ±20 % and never reaches zero', () => {
  assert.is(nextDelay(1, () => 0), 4_000)
  assert.is(nextDelay(1, () => 0.999999), 6_000)
  assert.is(nextDelay(6, () => 0), 0.8 * H)
  for (let i = 0; i < 1000; i++) {
    const d = nextDelay(1 + (i % 8))
    assert.ok(d >= 4_000 && d <= 1.2 * H, String(d))
  }
  assert.is(nextDelay(0, () => 0.5), 5_000, 'a nonsense attempt number is the first step')
})

backoff('giveUpAt is 24 h after the event was created', () => {
  assert.is(giveUpAt(1000), 1000 + 24 * H)
  assert.is(GIVE_UP_AFTER_MS, 24 * H)
})

backoff('retryAt: the last try is at the give-up moment, after it nothing', () => {
  const created = 0
  assert.is(retryAt(1, 0, created, () => 0.5), 5_000)
  assert.is(retryAt(20, 23.5 * H, created, () => 0.5), 24 * H, 'clamped to the give-up moment')
  assert.is(retryAt(21, 24 * H, created, () => 0.5), null)
  assert.is(retryAt(1, 25 * H, created, () => 0.5), null, 'a manual retry after 24 h gets one attempt only')
})

backoff('an endpoint down for a whole day gets about 28 attempts', () => {
  let at = 0
  let attempts = 0
  for (;;) {
    attempts++
    const next = retryAt(attempts, at, 0, () => 0.5)
    if (next === null) break
    at = next
  }
  assert.is(at, 24 * H)
  assert.ok(attempts >= 26 && attempts <= 30, String(attempts))
})

backoff.run()
