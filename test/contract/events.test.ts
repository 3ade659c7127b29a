import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createEmitter } from '../../contract/events.ts'

test('createEmitter delivers to listeners until removed', () => {
  const e = createEmitter()
  const seen: string[] = []
  const off = e.on('qr', (qr) => seen.push(qr))
  e.emit('qr', 'a')
  off()
  e.emit('qr', 'b')
  assert.equal(seen, ['a'])
})

test.run()
