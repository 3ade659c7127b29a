import { fileURLToPath } from 'node:url'
import { waitFor, type ServerProcess } from './server-process.ts'

const GC_HOOK = fileURLToPath(new URL('../../load/gc-hook.mjs', import.meta.url))

/**
 * Environment for startServer that loads the load test's GC hook (test/load/gc-hook.mjs): on
 * SIGUSR2 the server runs a full collection and reports it, so heap figures are live memory.
 */
export const gcHookEnv = (): Record<string, string> => ({ NODE_OPTIONS: `--import ${GC_HOOK}` })

/**
 * The server's live heap: a full GC (needs gcHookEnv), then `pollwire_nodejs_heap_size_used_bytes`
 * from GET /metrics (prom-client's default metrics, read at scrape time).
 */
export async function liveHeapBytes(server: ServerProcess): Promise<number> {
  const seen = server.logs.length
  server.proc.kill('SIGUSR2')
  await waitFor('the GC report', () => server.logs.slice(seen).some((l) => l.startsWith('{"loadTestMemory"')), 30_000)
  const res = await fetch(`${server.url}/metrics`)
  const text = await res.text()
  const value = Number(/^pollwire_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1])
  if (!Number.isFinite(value)) throw new Error(`no pollwire_nodejs_heap_size_used_bytes in GET /metrics (${res.status})`)
  return value
}
