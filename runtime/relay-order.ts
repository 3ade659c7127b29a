/**
 * Puts the events relayed from other processes back in the order each one sent them.
 *
 * The PostgreSQL adapter carries an event over 8,000 bytes as a row plus a notice, and the
 * receiving process reads that row before it can pass the event on, while a small event that
 * came after it is passed on at once: a whole poll list (`initial_poll_data`) could land after
 * the newer update that followed it, and leave a client showing the older state. Each sender
 * numbers its events; here one that comes early waits for those before it, at most `gapMs`
 * (a notice lost while the adapter was reconnecting never comes), then what waits goes on in order.
 */
export interface InOrder<T> {
  accept(from: string, seq: number, message: T): void
  close(): void
}

export interface InOrderOptions<T> {
  deliver(message: T): void
  /** how long an early event waits for a missing one (default 1000 ms) */
  gapMs?: number
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void }
}

const nodeTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => { const t = setTimeout(fn, ms); t.unref?.(); return t },
  clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export function inOrder<T>(opts: InOrderOptions<T>): InOrder<T> {
  const gapMs = opts.gapMs ?? 1000
  const timers = opts.timers ?? nodeTimers
  /** per sender: the next number expected, the early ones by number, the wait for the missing one */
  const senders = new Map<string, { next: number; early: Map<number, T>; timer: unknown }>()

  const drain = (s: { next: number; early: Map<number, T> }) => {
    while (s.early.has(s.next)) {
      const m = s.early.get(s.next) as T
      s.early.delete(s.next++)
      opts.deliver(m)
    }
  }
  const giveUp = (s: { next: number; early: Map<number, T>; timer: unknown }) => {
    s.timer = null
    // The missing ones are not coming: on from the earliest that is here.
    s.next = Math.min(...s.early.keys())
    drain(s)
    if (s.early.size) s.timer = timers.setTimeout(() => giveUp(s), gapMs)
  }

  return {
    accept(from, seq, message) {
      let s = senders.get(from)
      // A sender's first event here: in step with it from now on (senders never reuse a number).
      if (!s) senders.set(from, s = { next: seq, early: new Map(), timer: null })
      // Given up on, and come after all: passed on as the adapter alone would have.
      if (seq < s.next) return opts.deliver(message)
      s.early.set(seq, message)
      drain(s)
      if (s.early.size && s.timer === null) s.timer = timers.setTimeout(() => giveUp(s), gapMs)
      else if (!s.early.size && s.timer !== null) { timers.clearTimeout(s.timer); s.timer = null }
    },
    close() {
      for (const s of senders.values()) if (s.timer !== null) timers.clearTimeout(s.timer)
      senders.clear()
    },
  }
}
