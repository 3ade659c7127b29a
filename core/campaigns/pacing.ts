/**
 * When the next campaign send of an account may go (API.md, "Campaigns"): a random pause
 * within the campaign's delay after the previous send, and at most `maxPerMinute` campaign
 * sends in any 60 s. Both are kept across restarts from the chats' send times.
 */
export function createPacing(opts: { maxPerMinute: number; random?: () => number }) {
  const random = opts.random ?? Math.random
  /** times of the campaign sends of the last minute, oldest first */
  const recent: number[] = []
  let nextAt = 0

  return {
    /** a send started at `at`; the next may follow after a pause within [min, max] ms */
    sent(at: number, delay: { min: number; max: number }) {
      recent.push(at)
      nextAt = Math.max(nextAt, at + delay.min + Math.floor(random() * (delay.max - delay.min + 1)))
    },
    /** ms to wait before the next send (0: now) */
    wait(now: number): number {
      while (recent.length && recent[0]! <= now - 60_000) recent.shift()
      const capped = recent.length >= opts.maxPerMinute ? recent[recent.length - opts.maxPerMinute]! + 60_000 - now : 0
      return Math.max(0, nextAt - now, capped)
    },
  }
}

export type Pacing = ReturnType<typeof createPacing>
