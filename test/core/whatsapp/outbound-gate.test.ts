import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createOutboundGate } from '../../../core/whatsapp/outbound-gate.ts'

/**
 * The outbound gate: what Baileys sends after handing over a vote's commit goes out only once
 * that commit is durable, in order; a failed commit closes the connection and nothing sent
 * after it goes out.
 */

const frame = (n: number) => new Uint8Array([n])

function rig() {
  const sent: number[] = []
  const failures: unknown[] = []
  const gate = createOutboundGate({
    send: (data, cb) => { sent.push(data[0]!); cb?.() },
    fail: (err) => { failures.push(err) },
  })
  return { gate, sent, failures }
}

function deferred() {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

const tick = () => new Promise((r) => setImmediate(r))

const gate = suite('outbound gate')

gate('nothing held: frames go out at once, with their own callback', () => {
  const { gate: g, sent } = rig()
  let called = false
  g.send(frame(1), () => { called = true })
  assert.equal(sent, [1])
  assert.ok(called)
})

gate('a receipt sent after a held commit waits for it; frames keep their order; the callback comes at once', async () => {
  const { gate: g, sent } = rig()
  const first = deferred()
  const second = deferred()
  g.send(frame(1))
  g.hold(first.promise)
  let acked = false
  g.send(frame(2), () => { acked = true })
  g.hold(second.promise)
  g.send(frame(3))
  await tick()
  assert.equal(sent, [1], 'held behind the first commit')
  assert.ok(acked, 'Baileys is not kept waiting')
  first.resolve()
  await tick()
  assert.equal(sent, [1, 2], 'the second frame waits for the second commit')
  second.resolve()
  await tick()
  assert.equal(sent, [1, 2, 3])
  g.send(frame(4))
  assert.equal(sent, [1, 2, 3, 4], 'nothing held any more: at once again')
  assert.is(g.waiting(), 0)
})

gate('a commit that fails: the connection is given up once, and nothing sent after it goes out', async () => {
  const { gate: g, sent, failures } = rig()
  const ok = deferred()
  const bad = deferred()
  g.hold(ok.promise)
  g.send(frame(1))
  g.hold(bad.promise)
  g.send(frame(2))
  g.hold(Promise.reject(new Error('also failed')))
  g.send(frame(3))
  ok.resolve()
  bad.reject(new Error('disk full'))
  await tick()
  await tick()
  assert.equal(sent, [1], 'what was durable before the failure went out; nothing after it')
  assert.is(failures.length, 1)
  assert.match(String(failures[0]), /disk full/)
  let err: Error | undefined
  g.send(frame(4), (e) => { err = e })
  assert.equal(sent, [1])
  assert.ok(err, 'a send after the failure is refused')
})

gate.run()
