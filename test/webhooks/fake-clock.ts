import type { Timers } from '../../core/webhooks/sender.ts'

/** A settable clock with timers that fire only when the test moves time on. */
export function createFakeClock(start = Date.now()) {
  let t = start
  let seq = 0
  const due = new Map<number, { at: number; fn: () => void }>()
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = ++seq
      due.set(id, { at: t + Math.max(0, ms), fn })
      return id
    },
    clearTimeout(id) { due.delete(id as number) },
  }
  return {
    now: () => t,
    timers,
    /** Moves time to now + ms, firing every timer due on the way, in order, letting I/O and promises run after each. */
    async advance(ms: number) {
      const end = t + ms
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined
        for (const entry of due) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry
        if (!next) break
        due.delete(next[0])
        t = Math.max(t, next[1].at)
        next[1].fn()
        await turns()
      }
      t = end
      await turns()
    },
    timerCount: () => due.size,
  }
}

/** Lets queued callbacks, promise chains and finished I/O run. */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** Waits, in real time, until `cond()` holds; fails the test after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
