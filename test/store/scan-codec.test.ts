import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { unpackScan } from '../../store/codec.ts'

const unpack = suite('unpackScan')

unpack('hands the rows over in order, a given number at a time', () => {
  const US = '\x1f'
  const row = (seq: number) => [seq, `P${seq % 3}`, 'a'.repeat(32), 'o', `${seq}@s.whatsapp.net`, 1000 + seq, seq % 2 ? '3' : 's' + 'h1,h2'].join(US)
  const packed = Array.from({ length: 2_345 }, (_, i) => row(i + 1)).join(US)
  const chunks = [...unpackScan(packed, 1_000)]
  assert.equal(chunks.map((c) => c.length), [1_000, 1_000, 345])
  const rows = chunks.flat()
  assert.equal(rows.map((r) => r.seq), Array.from({ length: 2_345 }, (_, i) => i + 1))
  assert.equal(rows[0], { seq: 1, pollId: 'P1', hash: 'a'.repeat(32), state: 'ok', voterKey: '1@s.whatsapp.net', senderTs: 1001, mask: 3, selected: null })
  assert.equal(rows[1], { seq: 2, pollId: 'P2', hash: 'a'.repeat(32), state: 'ok', voterKey: '2@s.whatsapp.net', senderTs: 1002, mask: null, selected: 'h1,h2' })
})

unpack.run()
