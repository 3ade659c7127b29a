export interface Backoff {
  /** The next delay in ms: exponential, capped, with full jitter so many clients do not retry in step. */
  duration(): number
  reset(): void
  readonly attempts: number
}

export interface BackoffOptions { min?: number; max?: number; factor?: number; random?: () => number }

export function createBackoff({ min = 1000, max = 60_000, factor = 2, random = Math.random }: BackoffOptions = {}): Backoff {
  let attempts = 0
  return {
    duration() {
      const ceiling = Math.min(max, min * factor ** attempts)
      attempts++
      // Half fixed, half random: never a zero delay (no spinning), never in lockstep.
      return Math.round(ceiling / 2 + random() * (ceiling / 2))
    },
    reset() { attempts = 0 },
    get attempts() { return attempts },
  }
}
