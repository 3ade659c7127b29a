import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { collectLines, freePort } from '../test/e2e/harness/server-process.ts'

export const ROOT = fileURLToPath(new URL('../', import.meta.url))
/** Nothing listens there: Baileys fails to connect and backs off, the HTTP side is unaffected. */
export const NO_WHATSAPP = 'ws://127.0.0.1:9/ws/chat'

export interface Spawned {
  proc: ChildProcess
  port: number
  url: string
  /** ms on performance.now() when spawn() was called */
  spawnedAt: number
  /** pino JSON lines the server wrote */
  logs: string[]
  rssMb(): number
  /** CPU time the server used so far (user + system), ms */
  cpuMs(): number
  stop(): Promise<void>
}

let built = false
/** `npm run build` once per benchmark run: the server is measured as `npm start` runs it, compiled. */
function ensureBuilt(): void {
  if (built) return
  const res = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
  if (res.status !== 0) throw new Error('npm run build failed')
  built = true
}

/**
 * The real server as `npm start` runs it (compiled, `node dist/runtime/main.js`), on a free
 * port; `nodeArgs` go first (e.g. --cpu-prof), `imports` (TypeScript, e.g. the fake WhatsApp's
 * certificate preload) through tsx.
 */
export async function spawnServer(dataDir: string, opts: { nodeArgs?: string[]; imports?: string[]; env?: Record<string, string> } = {}): Promise<Spawned> {
  ensureBuilt()
  const port = await freePort()
  const spawnedAt = performance.now()
  // tsx only for TypeScript preloads: it switches on source-mapped stack traces, which cost
  // Baileys (a stack per frame it sends) what `npm start` does not pay
  const ts = opts.imports?.some((m) => m.endsWith('.ts')) ? ['--import', 'tsx'] : []
  const imports = [...ts, ...(opts.imports ?? []).flatMap((m) => ['--import', m])]
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...imports, 'dist/runtime/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
      PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, WA_WS_URL: NO_WHATSAPP, LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs = collectLines(proc)
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return {
    proc, port, url: `http://127.0.0.1:${port}`, spawnedAt, logs,
    cpuMs: () => {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux)
      const fields = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    rssMb: () => {
      const line = readFileSync(`/proc/${proc.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
      return Number(line?.match(/(\d+)/)?.[1] ?? NaN) / 1024
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const force = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(force)
    },
  }
}

/**
 * Asks GET /get-all-poll-data every 5 ms until it answers with `polls` polls; returns the ms
 * from spawn to that answer's headers (reading the body here is the client's time, not the server's).
 */
export async function untilServing(s: Spawned, polls: number, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (s.proc.exitCode !== null) throw new Error(`server exited with ${s.proc.exitCode}:\n${s.logs.slice(-10).join('\n')}`)
    try {
      const res = await fetch(`${s.url}/get-all-poll-data`)
      const answeredAt = performance.now()
      if (res.ok) {
        const body = (await res.json()) as { polls: Record<string, unknown> }
        if (Object.keys(body.polls).length === polls) return answeredAt - s.spawnedAt
      }
    } catch { /* not listening yet */ }
    if (performance.now() > deadline) throw new Error(`server did not serve ${polls} polls in ${timeoutMs} ms:\n${s.logs.slice(-10).join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A field of the first pino line with this message, e.g. the engine's load time. */
export function logField(logs: string[], msg: string, field: string): unknown {
  for (const line of logs) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      if (o.msg === msg) return o[field]
    } catch { /* not JSON */ }
  }
  return undefined
}

/** With BENCH_PROFILE=1: node's own --cpu-prof for a server process (one file per thread; the largest is the main one). */
export function profileArgs(name: string): string[] {
  return process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=bench/profiles/${name}`] : []
}
