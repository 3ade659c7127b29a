import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Row } from './table.ts'
import { profileArgs, ROOT, spawnServer, untilServing } from './server.ts'
import { createPolls, makeVotes, openEngine, removeDir, tempDir } from './votes.ts'

const POLLS = 1000
const VOTERS = 50
const SECONDS = 8
const CONNECTIONS = 2

interface Cannon {
  requests: { average: number; total: number }
  latency: { average: number; p50: number; p99: number }
  throughput: { average: number }
  errors: number
  non2xx: number
}

/**
 * 3. GET /get-all-poll-data with 1,000 polls × 50 voters: the real server process, loaded by
 * autocannon from a second process. Baseline: JSON.stringify of the same data in memory.
 */
export async function benchReads(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const dir = tempDir('reads')
  try {
    const b = await openEngine(dir)
    const polls = await createPolls(b, POLLS)
    await Promise.all(makeVotes(polls, VOTERS, undefined, 5).map((v) => b.engine.ingestVote(v.raw)))
    const body = { success: true, polls: b.engine.all() }
    const bytes = Buffer.byteLength(JSON.stringify(body))
    const stringifyMs = median(15, () => { JSON.stringify(body) })
    const handlerMs = median(15, () => { JSON.stringify({ success: true, polls: b.engine.all() }) })
    log(`  in memory: JSON.stringify ${stringifyMs.toFixed(2)} ms, all() + stringify ${handlerMs.toFixed(2)} ms, ${(bytes / 1e6).toFixed(1)} MB`)
    await b.engine.close()
    b.db.close()

    const server = await spawnServer(dir, { nodeArgs: profileArgs('reads-server') })
    try {
      await untilServing(server, POLLS)
      const url = `${server.url}/get-all-poll-data`
      await cannon(url, 2) // warm-up
      const cpu0 = server.cpuMs()
      const r = await cannon(url, SECONDS)
      const serverCpuMs = (server.cpuMs() - cpu0) / r.requests.total
      if (r.errors || r.non2xx) throw new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`)
      const perRequestMs = 1000 / r.requests.average
      log(`  HTTP: ${r.requests.average.toFixed(1)} req/s over ${CONNECTIONS} connections (${r.requests.total} requests), latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${(r.throughput.average / 1e6).toFixed(0)} MB/s; server CPU ${serverCpuMs.toFixed(1)} ms/request`)
      return {
        rows: [
          {
            section: '3. reads', measure: `GET /get-all-poll-data (${POLLS} polls × ${VOTERS} voters, ${(bytes / 1e6).toFixed(1)} MB): time per request`,
            value: perRequestMs, unit: 'ms', baseline: 'JSON.stringify of the same data in memory', baselineValue: stringifyMs,
            ratio: perRequestMs / stringifyMs, target: '≤ 1.5×', pass: perRequestMs / stringifyMs <= 1.5,
            note: `${r.requests.average.toFixed(1)} req/s, p99 ${r.latency.p99} ms, server CPU ${serverCpuMs.toFixed(1)} ms/request`,
          },
        ],
      }
    } finally {
      await server.stop()
    }
  } finally {
    removeDir(dir)
  }
}

/** autocannon in its own process, as a client on another machine would be. */
async function cannon(url: string, seconds: number): Promise<Cannon> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    'node_modules/autocannon/autocannon.js', '-j', '-c', String(CONNECTIONS), '-d', String(seconds), url,
  ], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })
  return JSON.parse(stdout) as Cannon
}

function median(n: number, fn: () => void): number {
  fn()
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    fn()
    ms.push(performance.now() - t)
  }
  return ms.sort((a, b) => a - b)[Math.floor(n / 2)]
}
