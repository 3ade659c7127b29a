/**
 * The retry schedule of API.md: about 5 s, 30 s, 2 min, 10 min, 1 h, then hourly, for 24 h
 * from the event's creation. A delivery that has not gone through by then is `failed`.
 */
export const SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000] as const

/** How long an event is retried for, from its creation. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000

/** ± this share of each delay is random, so endpoints that failed together do not retry in step. */
export const JITTER = 0.2

/**
 * The wait after failed attempt number `attempt` (1 = the first attempt failed): the schedule,
 * capped at its last step, times a random factor in [1 − JITTER, 1 + JITTER).
 */
export function nextDelay(attempt: number, rng: () => number = Math.random): number {
  const step = SCHEDULE_MS[Math.min(Math.max(attempt, 1), SCHEDULE_MS.length) - 1]!
  return Math.round(step * (1 - JITTER + 2 * JITTER * rng()))
}

/** The last moment an attempt is made for an event created at `createdAt`. */
export function giveUpAt(createdAt: number, retryForMs: number = GIVE_UP_AFTER_MS): number {
  return createdAt + retryForMs
}

/**
 * When to try again after failed attempt `attempt` at `at`, or null to give up. The last try
 * is made at the give-up moment itself, so an endpoint down for 23 h 59 min still gets it.
 */
export function retryAt(attempt: number, at: number, createdAt: number, rng: () => number = Math.random, retryForMs?: number): number | null {
  const end = giveUpAt(createdAt, retryForMs)
  if (at >= end) return null
  return Math.min(at + nextDelay(attempt, rng), end)
}
