import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createGroupCommit } from '../../../core/votes/group-commit.ts'

const gc = suite('createGroupCommit')

gc('items pushed together form one batch; results go back to each push', async () => {
  const batches: number[][] = []
  const c = createGroupCommit<number, number>({ run: async (b) => { batches.push(b); return b.map((x) => x * 2) } })
  const out = await Promise.all([1, 2, 3].map((x) => c.push(x)))
  assert.equal(out, [2, 4, 6])
  assert.equal(batches, [[1, 2, 3]])
})

gc('no batch exceeds maxBatch; items arriving during a batch form the next one', async () => {
  const batches: number[][] = []
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const c = createGroupCommit<number, void>({
    maxBatch: 4,
    run: async (b) => { batches.push(b); if (batches.length === 1) await gate; return b.map(() => undefined) },
  })
  const first = Array.from({ length: 10 }, (_, i) => c.push(i))
  await new Promise((r) => setTimeout(r, 10))
  const late = [c.push(10), c.push(11)]
  release()
  await Promise.all([...first, ...late])
  assert.equal(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
})

gc('a failed batch rejects its own pushes only', async () => {
  let n = 0
  const c = createGroupCommit<string, string>({ run: async (b) => { if (n++ === 0) throw new Error('disk full'); return b } })
  const a = c.push('a')
  const errA = await a.then(() => null, (e: Error) => e.message)
  const b = await c.push('b')
  assert.is(errA, 'disk full')
  assert.is(b, 'b')
})

gc('drain runs what is queued without waiting for the delay', async () => {
  const seen: string[] = []
  const c = createGroupCommit<string, void>({ delayMs: 10_000, run: async (b) => { seen.push(...b); return b.map(() => undefined) } })
  void c.push('x')
  await c.drain()
  assert.equal(seen, ['x'])
  assert.is(c.pending(), 0)
})

gc.run()
