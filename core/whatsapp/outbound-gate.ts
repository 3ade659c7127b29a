/** A frame's sender, as the WebSocket's `send(data, cb)`. */
export type SendFrame = (data: Uint8Array, cb?: (err?: Error) => void) => void

/**
 * Lets Baileys go on to the next message while the vote of the last one is still being
 * committed, without telling WhatsApp anything too early.
 *
 * Baileys handles incoming messages one at a time and acknowledges each (its receipt) before
 * the next. Awaiting each vote's commit there makes every message wait for its own fsync. With
 * the gate, a decryption hands its commit to `hold` and returns; every frame sent after that
 * (the receipt first) waits, in order, until every commit held before it is durable. Messages
 * decrypted meanwhile join the next group commit, so one fsync serves many of them. WhatsApp
 * redelivers what it got no receipt for, so a crash loses nothing: what was not journaled was
 * not acknowledged.
 *
 * A held commit that fails (a full disk) closes the connection through `fail` and nothing held
 * after it goes out: WhatsApp brings those messages again on the next connection. Frames go out
 * in the order they were sent (the noise cipher numbers them), and the callback of a held frame
 * is called at once, as Baileys cannot wait on it without holding its message lock again.
 */
export function createOutboundGate(opts: { send: SendFrame; fail(err: unknown): void }) {
  /** holds and frames not yet through the chain */
  let waiting = 0
  let chain: Promise<void> = Promise.resolve()
  let failed = false

  return {
    /** Frames sent from now on wait for `commit`. */
    hold(commit: Promise<unknown>): void {
      if (failed) return
      waiting++
      chain = chain.then(() => commit).then(() => { waiting-- }, (err) => {
        waiting--
        if (failed) return
        failed = true
        opts.fail(err)
      })
    },
    /** The socket's `send`: at once when nothing is held, else after what is held. */
    send(data: Uint8Array, cb?: (err?: Error) => void): void {
      if (failed) {
        cb?.(new Error('connection given up: a vote was not journaled'))
        return
      }
      if (!waiting) {
        opts.send(data, cb)
        return
      }
      waiting++
      chain = chain.then(() => {
        waiting--
        // Its callback was called already; a send on a closed socket just reports to nobody.
        if (!failed) opts.send(data, () => undefined)
      })
      if (cb) queueMicrotask(() => cb())
    },
    /** whether anything is held (for tests and metrics) */
    waiting: () => waiting,
  }
}

export type OutboundGate = ReturnType<typeof createOutboundGate>
