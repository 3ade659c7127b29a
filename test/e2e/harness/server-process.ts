import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { storeEnv } from './store.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface ServerProcess {
  url: string
  port: number
  dataDir: string
  proc: ChildProcess
  /** every line the server wrote (stdout and stderr), for assertions on logs */
  logs: string[]
  /** SIGTERM and wait for the exit code */
  stop(): Promise<number | null>
  /** SIGKILL: a crash, nothing flushed */
  kill9(): Promise<void>
  /** GET/POST JSON helpers against this server */
  get(path: string): Promise<{ status: number; body: any }>
  post(path: string, body: unknown): Promise<{ status: number; body: any }>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/** Every non-empty line a child writes to stdout and stderr, as it arrives. */
export function collectLines(proc: ChildProcess): string[] {
  const lines: string[] = []
  const collect = (chunk: Buffer) => { for (const line of chunk.toString().split('\n')) if (line) lines.push(line) }
  proc.stdout?.on('data', collect)
  proc.stderr?.on('data', collect)
  return lines
}

export const tempDir = (prefix = 'pollwire-e2e-') => mkdtempSync(join(tmpdir(), prefix))
export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

export interface StartOptions {
  waWsUrl: string
  dataDir?: string
  port?: number
  env?: Record<string, string>
  /** how long to wait for /health (ms) */
  timeoutMs?: number
  token?: string
  /** the program and its arguments; default: Node with tsx and the fake WhatsApp's preload */
  command?: string[]
}

/**
 * Starts the real server as `npm start` would, plus the preload that makes Baileys trust the
 * fake WhatsApp's certificate root, on the store E2E_STORE names (./store.ts). Resolves once
 * /health answers.
 */
export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const port = opts.port ?? await freePort()
  const dataDir = opts.dataDir ?? tempDir()
  const [program, ...args] = opts.command ?? [process.execPath, '--import', 'tsx', '--import', './test/e2e/fake-wa/preload.ts', 'runtime/main.ts']
  const proc = spawn(program!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WA_WS_URL: opts.waWsUrl,
      LOG_LEVEL: 'debug',
      ...await storeEnv(dataDir),
      ...(opts.token ? { API_TOKEN: opts.token } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs = collectLines(proc)
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const headers = (extra: Record<string, string> = {}) => ({ ...extra, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) })
  const asJson = async (res: Response) => ({ status: res.status, body: await res.json().catch(() => null) })

  const deadline = Date.now() + (opts.timeoutMs ?? 20_000)
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${logs.slice(-20).join('\n')}`)
    try {
      if ((await fetch(`${url}/health`)).ok) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`server did not answer /health:\n${logs.slice(-20).join('\n')}`) }
    await new Promise((r) => setTimeout(r, 50))
  }

  return {
    url, port, dataDir, proc, logs,
    async stop() { if (proc.exitCode === null) proc.kill('SIGTERM'); return exited },
    async kill9() { if (proc.exitCode === null) proc.kill('SIGKILL'); await exited },
    get: async (path) => asJson(await fetch(url + path, { headers: headers() })),
    post: async (path, body) => asJson(await fetch(url + path, {
      method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body),
    })),
  }
}

/** Polls `probe` until it returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
