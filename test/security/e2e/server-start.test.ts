import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeWhatsApp, type FakeWhatsApp } from '../../e2e/fake-wa/index.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from '../../e2e/harness/server-process.ts'
import { sqliteOnly } from '../../e2e/harness/store.ts'

/**
 * What the real server does at start (issue #7): it binds loopback unless told otherwise, warns
 * clearly when told to bind a non-loopback address without API_TOKEN, creates DATA_DIR 0700
 * and keeps its database files 0600 — also under a permissive umask and after a crash left
 * files with looser modes behind. An existing DATA_DIR keeps its owner's mode, with a warning
 * when others can enter it (issue #11).
 */

const TOKEN = 'start-test-token-0123456789'
const WARNING = /non-loopback address WITHOUT API_TOKEN/

/** Local addresses (hex, as the kernel writes them) of TCP sockets listening on `port`. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const out: string[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/)
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) out.push(local.slice(0, -5))
    }
  }
  return out
}

const json = (lines: string[]) => lines.flatMap((l) => { try { return [JSON.parse(l)] } catch { return [] } })
const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`

interface World { fake: FakeWhatsApp; servers: ServerProcess[]; dirs: string[] }
const start = suite<World>('server start: bind address and warning', { servers: [], dirs: [] } as unknown as World)

start.before(async (w) => {
  w.servers = []
  w.dirs = []
  w.fake = await startFakeWhatsApp()
})
start.after(async (w) => {
  for (const s of w.servers) await s.stop()
  for (const d of w.dirs) removeDir(d)
  await w.fake?.close()
})

const boot = async (w: World, env: Record<string, string>, token?: string) => {
  const s = await startServer({ waWsUrl: w.fake.url, env, token })
  w.servers.push(s)
  w.dirs.push(s.dataDir)
  await waitFor('the listening line', () => json(s.logs).some((l) => l.msg === 'pollwire listening'))
  return s
}

start('HOST unset: bound to 127.0.0.1 only, and no warning', async (w) => {
  const s = await boot(w, { HOST: '' })
  assert.equal(listeners(s.port), ['0100007F'], 'the kernel lists one listener, on 127.0.0.1')
  assert.is(json(s.logs).find((l) => l.msg === 'pollwire listening').host, '127.0.0.1')
  assert.not.ok(s.logs.some((l) => WARNING.test(l)))
})

start('HOST=0.0.0.0 without API_TOKEN: a clear warning at start, before listening', async (w) => {
  const s = await boot(w, { HOST: '0.0.0.0' })
  assert.ok(listeners(s.port).every((a) => /^0+$/.test(a)), `bound to every address: ${listeners(s.port)}`)
  const lines = json(s.logs)
  const warning = lines.findIndex((l) => WARNING.test(l.msg ?? ''))
  assert.ok(warning >= 0, `no warning in:\n${s.logs.slice(0, 10).join('\n')}`)
  assert.is(lines[warning].level, 40, 'logged as a warning')
  assert.is(lines[warning].host, '0.0.0.0', 'names the address')
  assert.match(lines[warning].msg, /anyone who reaches this port/)
  assert.ok(warning < lines.findIndex((l) => l.msg === 'pollwire listening'), 'comes before the server listens')
})

start('HOST=0.0.0.0 with API_TOKEN: no warning', async (w) => {
  const s = await boot(w, { HOST: '0.0.0.0' }, TOKEN)
  assert.ok(listeners(s.port).every((a) => /^0+$/.test(a)), `bound to every address: ${listeners(s.port)}`)
  assert.not.ok(s.logs.some((l) => WARNING.test(l)))
})

start.run()

// ---

const data = suite<World>('server start: DATA_DIR permissions', { servers: [], dirs: [] } as unknown as World)
data.before(async (w) => {
  w.servers = []
  w.dirs = []
  w.fake = await startFakeWhatsApp()
})
data.after(async (w) => {
  for (const s of w.servers) await s.stop()
  for (const d of w.dirs) removeDir(d)
  await w.fake?.close()
})

const FILES = ['pollwire.db', 'pollwire.db-wal', 'pollwire.db-shm']
const SQLITE_FILES = 'DATA_DIR\'s database files and its mode warning are the SQLite store\'s'

data('a new DATA_DIR is 0700 and the database, -wal, -shm and the lock file 0600, even under umask 000', async (w) => {
  if (sqliteOnly(SQLITE_FILES)) return
  const root = tempDir()
  w.dirs.push(root)
  const dataDir = join(root, 'nested', 'data')
  const previous = process.umask(0o000) // inherited by the server process
  let s: ServerProcess
  try {
    s = await startServer({ waWsUrl: w.fake.url, dataDir })
  } finally {
    process.umask(previous)
  }
  w.servers.push(s)
  await waitFor('the WAL files', () => FILES.every((f) => existsSync(join(dataDir, f))))
  assert.is(mode(dataDir), '0700')
  for (const f of [...FILES, 'pollwire.lock']) assert.is(mode(join(dataDir, f)), '0600', f)
})

data('after a crash, files loosened to 0666 are tightened on the next start; the directory (0777) is left to its owner, with a warning', async (w) => {
  if (sqliteOnly(SQLITE_FILES)) return
  const dataDir = tempDir()
  w.dirs.push(dataDir)
  const first = await startServer({ waWsUrl: w.fake.url, dataDir })
  await waitFor('the WAL files', () => FILES.every((f) => existsSync(join(dataDir, f))))
  await first.kill9()
  for (const f of FILES) chmodSync(join(dataDir, f), 0o666)
  chmodSync(dataDir, 0o777)
  const second = await startServer({ waWsUrl: w.fake.url, dataDir })
  w.servers.push(second)
  assert.is(mode(dataDir), '0777', 'an existing directory is not chmodded')
  const warning = json(second.logs).find((l) => l.level === 40 && /DATA_DIR is open to other users/.test(l.msg ?? ''))
  assert.ok(warning, 'a warning names the open directory')
  assert.is(warning.mode, '0777')
  for (const f of FILES) assert.is(mode(join(dataDir, f)), '0600', f)
})

data.run()
