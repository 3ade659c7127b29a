import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeWhatsApp } from '../../e2e/fake-wa/index.ts'
import { freePort, removeDir, tempDir, waitFor } from '../../e2e/harness/server-process.ts'
import { sqliteOnly, storeEnv } from '../../e2e/harness/store.ts'

/**
 * Start-up and shutdown of the real server process (issue #11): a bad config or a failed start
 * is one line on stderr naming the variable and the cause, exit code 1, never a stack trace;
 * one DATA_DIR serves one process at a time (a lock the OS drops when its holder dies); an
 * existing DATA_DIR keeps the mode its owner gave it; SIGTERM ends promptly with exit 0 even
 * while a client holds a half-sent request open; the QR art stays off a piped stdout.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DENO = fileURLToPath(new URL('../../../node_modules/deno/deno', import.meta.url))
const NODE = [process.execPath, '--import', 'tsx', '--import', './test/e2e/fake-wa/preload.ts']
const NOWHERE = 'ws://127.0.0.1:9/ws/chat' // nothing listens there: the session just retries
const STACK = /^\s+at /m

interface Proc {
  proc: ChildProcess
  port: number
  dataDir: string
  url: string
  stdout: string[]
  stderr: string[]
  exited: Promise<number | null>
  /** resolves once /health answers, fails if the process exits first */
  healthy(ms?: number): Promise<void>
}

interface SpawnOptions { env?: Record<string, string>; dataDir?: string; port?: number; command?: string[]; main?: string }

async function spawnServer(opts: SpawnOptions = {}): Promise<Proc> {
  const port = opts.port ?? await freePort()
  const dataDir = opts.dataDir ?? tempDir('pollwire-start-')
  const [program, ...args] = [...(opts.command ?? NODE), opts.main ?? 'runtime/main.ts']
  const proc = spawn(program!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
      NO_COLOR: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WA_WS_URL: NOWHERE,
      LOG_LEVEL: 'info',
      ...await storeEnv(dataDir),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = (stream: NodeJS.ReadableStream | null) => {
    const out: string[] = []
    let rest = ''
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n')
      rest = parts.pop()!
      out.push(...parts.filter(Boolean))
    })
    stream?.on('end', () => { if (rest) out.push(rest) })
    return out
  }
  const stdout = lines(proc.stdout)
  const stderr = lines(proc.stderr)
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  return {
    proc, port, dataDir, url, stdout, stderr, exited,
    async healthy(ms = 20_000) {
      const deadline = Date.now() + ms
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${[...stdout, ...stderr].slice(-20).join('\n')}`)
        try { if ((await fetch(`${url}/health`)).ok) return } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error(`no /health:\n${[...stdout, ...stderr].slice(-20).join('\n')}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  }
}

/** Runs a server that is expected to refuse to start; kills it after `ms` if it does start. */
async function failedStart(opts: SpawnOptions & { ms?: number } = {}) {
  const p = await spawnServer(opts)
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), opts.ms ?? 30_000)
  const code = await p.exited
  clearTimeout(timer)
  if (!opts.dataDir) removeDir(p.dataDir)
  return { code, stdout: p.stdout, stderr: p.stderr, port: p.port }
}

/** Exit code 1, exactly one line on stderr that matches `line`, and no stack anywhere. */
function assertOneLine(r: { code: number | null; stdout: string[]; stderr: string[] }, line: RegExp, what: string) {
  const all = [...r.stderr, ...r.stdout].join('\n')
  assert.is(r.code, 1, `${what}: exit code 1, got ${r.code}:\n${all}`)
  assert.is(r.stderr.length, 1, `${what}: one line on stderr, got:\n${r.stderr.join('\n')}`)
  assert.match(r.stderr[0]!, /^pollwire: /, what)
  assert.match(r.stderr[0]!, line, what)
  assert.not.match(all, STACK, `${what}: no stack trace in:\n${all}`)
  assert.not.match(all, /\\n\s+at /, `${what}: no stack trace inside a log line either`)
}

const json = (lines: string[]) => lines.flatMap((l) => { try { return [JSON.parse(l)] } catch { return [] } })
const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`

interface World { dirs: string[]; procs: Proc[]; blockers: Server[] }
const fresh = (): World => ({ dirs: [], procs: [], blockers: [] })
const cleanup = async (w: World) => {
  for (const p of w.procs) if (p.proc.exitCode === null && p.proc.signalCode === null) { p.proc.kill('SIGKILL'); await p.exited }
  for (const b of w.blockers) await new Promise((r) => b.close(r))
  for (const d of w.dirs) removeDir(d)
  Object.assign(w, fresh())
}

// ---

const failures = suite<World>('start-up failures: one line on stderr, exit 1', fresh())
failures.after.each(cleanup)

failures('port in use: names the address and PORT', async (w) => {
  const port = await freePort()
  const blocker = createServer()
  w.blockers.push(blocker)
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  const r = await failedStart({ port })
  assertOneLine(r, new RegExp(`^pollwire: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(set PORT\\)$`), 'EADDRINUSE')
})

failures('HOST that does not resolve: names HOST', async () => {
  const r = await failedStart({
    command: [...NODE, '--import', './test/security/e2e/offline-dns.ts'],
    env: { HOST: 'no-such-host.invalid' },
  })
  assertOneLine(r, /cannot listen on no-such-host\.invalid:\d+: .*does not resolve.*\(set HOST\)$/, 'ENOTFOUND')
})

const DATA_DIR_CHECKED = 'only the SQLite store prepares DATA_DIR at start'

failures('DATA_DIR under a regular file, or a regular file itself: names DATA_DIR', async (w) => {
  if (sqliteOnly(DATA_DIR_CHECKED)) return
  const root = tempDir('pollwire-start-')
  w.dirs.push(root)
  writeFileSync(join(root, 'file'), 'not a directory')
  const under = await failedStart({ dataDir: join(root, 'file', 'data') })
  assertOneLine(under, /DATA_DIR .*file\/data.*not a directory.*\(set DATA_DIR\)$/, 'ENOTDIR')
  const itself = await failedStart({ dataDir: join(root, 'file') })
  assertOneLine(itself, /DATA_DIR .*file.*not a directory.*\(set DATA_DIR\)$/, 'a file as DATA_DIR')
})

const asNobody = (() => {
  if (process.getuid?.() !== 0) return [] // not root: a 0555 directory already refuses us
  const found = spawnSync('setpriv', ['--version'])
  return found.status === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : null
})()

failures('DATA_DIR this user cannot write (missing under a read-only parent, or existing): names DATA_DIR', async (w) => {
  if (sqliteOnly(DATA_DIR_CHECKED)) return
  if (asNobody === null) { console.warn('  (skipped: root without setpriv cannot be refused a directory)'); return }
  const root = tempDir('pollwire-start-')
  w.dirs.push(root)
  const parent = join(root, 'locked')
  mkdirSync(parent)
  chmodSync(root, 0o755)
  chmodSync(parent, 0o555)
  const command = [...asNobody, ...NODE]
  const missing = await failedStart({ command, dataDir: join(parent, 'data') })
  assertOneLine(missing, /DATA_DIR .*locked\/data.*permission denied/, 'EACCES on mkdir')
  const existing = await failedStart({ command, dataDir: parent })
  assertOneLine(existing, /DATA_DIR .*locked.*permission denied/, 'EACCES on an existing directory')
  chmodSync(parent, 0o755)
})

failures('PORT empty, hex, exponent, negative, too big: exit 1 naming PORT', async () => {
  const results = await Promise.all(['', '0x10', '1e3', '-1', '65536'].map(async (PORT) => ({ PORT, r: await failedStart({ env: { PORT } }) })))
  for (const { PORT, r } of results) {
    const all = [...r.stderr, ...r.stdout].join('\n')
    assert.is(r.code, 1, `PORT=${JSON.stringify(PORT)}: exit 1, got ${r.code}:\n${all}`)
    assert.match(r.stderr.join('\n'), /^pollwire: invalid configuration/, `PORT=${JSON.stringify(PORT)}`)
    assert.match(r.stderr.join('\n'), /PORT/, `PORT=${JSON.stringify(PORT)}`)
    assert.not.match(all, STACK, `PORT=${JSON.stringify(PORT)}: no stack`)
    assert.not.ok(json(r.stdout).some((l) => l.msg === 'pollwire listening'), `PORT=${JSON.stringify(PORT)} never listened`)
  }
})

failures.run()

// ---

const lock = suite<World>('DATA_DIR lock: one process per DATA_DIR', fresh())
lock.after.each(cleanup)
// On PostgreSQL several processes may share the database; which one serves an account is #15's ownership.
const LOCKED = 'the DATA_DIR lock guards the SQLite file'

lock('a second process on the same DATA_DIR exits 1 naming the holder; the first keeps serving', async (w) => {
  if (sqliteOnly(LOCKED)) return
  const first = await spawnServer()
  w.procs.push(first)
  w.dirs.push(first.dataDir)
  await first.healthy()
  const second = await failedStart({ dataDir: first.dataDir })
  assertOneLine(second, new RegExp(`^pollwire: DATA_DIR ${first.dataDir} is in use by another pollwire process \\(pid ${first.proc.pid}\\); stop it or choose another DATA_DIR$`), 'locked')
  assert.not.ok(json(second.stdout).some((l) => l.msg === 'pollwire listening'), 'the second never listened')
  const health = await fetch(`${first.url}/health`)
  assert.is(health.status, 200, 'the first still serves')
  assert.is((await health.json()).store, 'ok')
})

lock('after kill -9 of the holder the next process starts on that DATA_DIR', async (w) => {
  const first = await spawnServer()
  w.procs.push(first)
  w.dirs.push(first.dataDir)
  await first.healthy()
  first.proc.kill('SIGKILL')
  await first.exited
  const next = await spawnServer({ dataDir: first.dataDir })
  w.procs.push(next)
  await next.healthy()
  assert.is((await (await fetch(`${next.url}/health`)).json()).store, 'ok')
  next.proc.kill('SIGTERM')
  assert.is(await next.exited, 0)
})

lock('under Deno: a second process on a DATA_DIR Node holds exits 1 naming the pid, and a port in use is one line', async (w) => {
  if (!existsSync(DENO)) { console.warn('  (skipped: no deno binary in node_modules)'); return }
  const first = await spawnServer()
  w.procs.push(first)
  w.dirs.push(first.dataDir)
  await first.healthy()
  const deno = [DENO, 'run', '-A']
  if (!sqliteOnly(`${LOCKED} (the second process on a held DATA_DIR; the port in use is checked)`)) {
    const second = await failedStart({ command: deno, dataDir: first.dataDir, ms: 60_000 })
    assertOneLine(second, new RegExp(`DATA_DIR ${first.dataDir} is in use by another pollwire process \\(pid ${first.proc.pid}\\)`), 'deno: locked')
  }
  const busyPort = await failedStart({ command: deno, port: first.port, ms: 60_000 })
  assertOneLine(busyPort, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.port}: the port is in use \\(set PORT\\)$`), 'deno: EADDRINUSE')
})

lock.run()

// ---

const perms = suite<World>('DATA_DIR permissions: an existing directory is not changed', fresh())
perms.after.each(cleanup)
const FILES_MODES = 'the database files and the mode warning are the SQLite store\'s'

perms('an existing DATA_DIR 0755 stays 0755, a warning names it, the database files are 0600', async (w) => {
  if (sqliteOnly(FILES_MODES)) return
  const dataDir = tempDir('pollwire-start-')
  w.dirs.push(dataDir)
  chmodSync(dataDir, 0o755)
  const s = await spawnServer({ dataDir })
  w.procs.push(s)
  await s.healthy()
  assert.is(mode(dataDir), '0755', 'left as its owner set it')
  const warning = json(s.stdout).find((l) => /DATA_DIR/.test(l.msg ?? '') && l.level === 40)
  assert.ok(warning, `a warning about DATA_DIR in:\n${s.stdout.slice(0, 10).join('\n')}`)
  assert.is(warning.dataDir, dataDir)
  assert.is(warning.mode, '0755')
  for (const f of ['pollwire.db', 'pollwire.lock']) assert.is(mode(join(dataDir, f)), '0600', f)
  s.proc.kill('SIGTERM')
  assert.is(await s.exited, 0)
})

perms('an existing DATA_DIR 0700: no warning', async (w) => {
  if (sqliteOnly(FILES_MODES)) return
  const dataDir = tempDir('pollwire-start-')
  w.dirs.push(dataDir)
  chmodSync(dataDir, 0o700)
  const s = await spawnServer({ dataDir })
  w.procs.push(s)
  await s.healthy()
  assert.not.ok(json(s.stdout).some((l) => /DATA_DIR/.test(l.msg ?? '') && l.level === 40), 'no warning')
})

perms.run()

// ---

const stop = suite<World>('shutdown', fresh())
stop.after.each(cleanup)

stop('SIGTERM with a half-sent request open: exit 0 within about a second, the store closed', async (w) => {
  const s = await spawnServer()
  w.procs.push(s)
  w.dirs.push(s.dataDir)
  await s.healthy()
  const raw = connect(s.port, '127.0.0.1')
  const cut = new Promise<void>((resolve) => raw.once('close', () => resolve()))
  raw.on('error', () => {})
  await new Promise<void>((resolve) => raw.once('connect', () => resolve()))
  raw.write(`POST /send-poll HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"chatId":"1555`)
  await new Promise((r) => setTimeout(r, 300)) // the server has read the headers and waits for the body
  const t0 = Date.now()
  s.proc.kill('SIGTERM')
  const code = await s.exited
  const ms = Date.now() - t0
  raw.destroy()
  await cut
  assert.is(code, 0, `exit 0, got ${code}:\n${[...s.stdout, ...s.stderr].slice(-10).join('\n')}`)
  assert.ok(ms < 2000, `ended in ${ms} ms`)
  const lines = json(s.stdout).map((l) => l.msg)
  assert.ok(lines.indexOf('stopped') > lines.indexOf('shutting down'), 'shutdown ran to its end (store closed, HTTP closed)')
  assert.not.ok(lines.some((m) => /shutdown took too long|shutdown failed/.test(m)))
})

stop.run()

// ---

const qr = suite<World>('QR art', fresh())
qr.after.each(cleanup)

qr('goes to stderr when stdout is a pipe; stdout stays JSON log lines', async (w) => {
  const fake = await startFakeWhatsApp()
  try {
    const s = await spawnServer({ env: { WA_WS_URL: fake.url } })
    w.procs.push(s)
    w.dirs.push(s.dataDir)
    await s.healthy()
    await waitFor('the QR art', () => s.stderr.some((l) => /Scan this QR code/.test(l)), 20_000)
    await waitFor('the art itself', () => s.stderr.filter((l) => /[█▀▄]/.test(l)).length >= 10)
    assert.not.ok(s.stdout.some((l) => /Scan this QR code|[█▀▄]/.test(l)), 'no QR art on stdout')
    for (const l of s.stdout) assert.ok(json([l]).length === 1, `a JSON log line: ${l}`)
    s.proc.kill('SIGTERM')
    assert.is(await s.exited, 0)
  } finally {
    await fake.close()
  }
})

qr.run()
