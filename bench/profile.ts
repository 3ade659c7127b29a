import { Session } from 'node:inspector/promises'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const PROFILE_DIR = fileURLToPath(new URL('./profiles/', import.meta.url))

/**
 * Runs `fn`; with BENCH_PROFILE=1 also records a CPU profile of just that part (what
 * `node --cpu-prof` records for the whole process, without the setup around it) to
 * bench/profiles/<name>.cpuprofile, for Chrome DevTools or speedscope.
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!process.env.BENCH_PROFILE) return fn()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    mkdirSync(PROFILE_DIR, { recursive: true })
    writeFileSync(`${PROFILE_DIR}${name}.cpuprofile`, JSON.stringify(profile))
  }
}
