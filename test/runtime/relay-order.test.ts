import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { inOrder } from '../../runtime/relay-order.ts'

/** Timers run by hand: `fire()` runs every pending one. */
function manualTimers() {
  const pending = new Map<number, () => void>()
  let id = 0
  return {
    setTimeout: (fn: () => void) => { pending.set(++id, fn); return id },
    clearTimeout: (h: unknown) => { pending.delete(h as number) },
    fire() { const fns = [...pending.values()]; pending.clear(); for (const fn of fns) fn() },
    get size() { return pending.size },
  }
}

const order = suite('inOrder: relayed events in the order each sender sent them')

order('in order: each passed on at once, no timer left', () => {
  const got: string[] = []
  const timers = manualTimers()
  const o = inOrder<string>({ deliver: (m) => got.push(m), timers })
  o.accept('A', 5, 'a5'); o.accept('A', 6, 'a6'); o.accept('A', 7, 'a7')
  assert.equal(got, ['a5', 'a6', 'a7'])
  assert.is(timers.size, 0)
})

order('an early event waits for the one before it (a large one read from its row first)', () => {
  const got: string[] = []
  const timers = manualTimers()
  const o = inOrder<string>({ deliver: (m) => got.push(m), timers })
  o.accept('A', 0, 'status')
  o.accept('A', 2, 'update')
  assert.equal(got, ['status'], 'the update waits')
  o.accept('A', 1, 'whole list')
  assert.equal(got, ['status', 'whole list', 'update'])
  assert.is(timers.size, 0)
})

order('senders are kept apart', () => {
  const got: string[] = []
  const o = inOrder<string>({ deliver: (m) => got.push(m), timers: manualTimers() })
  o.accept('A', 10, 'a10'); o.accept('B', 0, 'b0'); o.accept('A', 12, 'a12'); o.accept('B', 1, 'b1'); o.accept('A', 11, 'a11')
  assert.equal(got, ['a10', 'b0', 'b1', 'a11', 'a12'])
})

order('a missing event (a notice lost) is given up after the wait; what waited goes on in order', () => {
  const got: string[] = []
  const timers = manualTimers()
  const o = inOrder<string>({ deliver: (m) => got.push(m), timers })
  o.accept('A', 0, 'a0')
  o.accept('A', 3, 'a3'); o.accept('A', 2, 'a2')
  assert.equal(got, ['a0'])
  timers.fire()
  assert.equal(got, ['a0', 'a2', 'a3'])
  o.accept('A', 4, 'a4')
  assert.equal(got, ['a0', 'a2', 'a3', 'a4'], 'in step again')
  o.accept('A', 1, 'a1 (after all)')
  assert.equal(got.at(-1), 'a1 (after all)', 'passed on, not kept forever')
})

order('close drops the waits', () => {
  const timers = manualTimers()
  const o = inOrder<string>({ deliver: () => undefined, timers })
  o.accept('A', 0, 'x'); o.accept('A', 2, 'y')
  assert.is(timers.size, 1)
  o.close()
  assert.is(timers.size, 0)
})

order.run()
