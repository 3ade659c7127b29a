import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createBackoff } from '../../../core/whatsapp/backoff.ts'

const backoff = suite('createBackoff')

backoff('grows exponentially within [ceiling/2, ceiling], capped, and resets', () => {
  const low = createBackoff({ min: 1000, max: 8000, random: () => 0 })
  assert.equal([1, 2, 3, 4, 5].map(() => low.duration()), [500, 1000, 2000, 4000, 4000])
  const high = createBackoff({ min: 1000, max: 8000, random: () => 1 })
  assert.equal([1, 2, 3, 4, 5].map(() => high.duration()), [1000, 2000, 4000, 8000, 8000])
  high.reset()
  assert.is(high.attempts, 0)
  assert.is(high.duration(), 1000)
})

backoff('never zero, so a dead server is not hammered', () => {
  const b = createBackoff()
  for (let i = 0; i < 50; i++) assert.ok(b.duration() >= 500)
})

backoff.run()
