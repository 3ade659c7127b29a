import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { pairByQr } from './harness/pair.ts'
import { removeDir, startServer, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * The GUI's side of the contract, checked by a Python client built like the PollMasters GUI
 * (requests + python-socketio from Debian, run with /usr/bin/python3).
 */
const PYTHON = '/usr/bin/python3'
const CLIENT = fileURLToPath(new URL('./gui-client.py', import.meta.url))

interface World { fake: FakeWhatsApp; alice: FakeContact; server: ServerProcess }
const gui = suite<World>('GUI contract (python-socketio + requests)', {} as World)

gui.before(async (w) => {
  w.fake = await startFakeWhatsApp()
  w.alice = w.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  w.server = await startServer({ waWsUrl: w.fake.url })
  await pairByQr(w.server, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
})

gui.after(async (w) => {
  await w.server?.stop()
  if (w.server) removeDir(w.server.dataDir)
  await w.fake?.close()
})

gui('the GUI client connects, lists chats, sends a poll and sees the vote', async (w) => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing`)
  await waitFor('alice in the chat list', async () =>
    (await w.server.get('/get-chats')).body.chats.some((c: { id: string }) => c.id === w.alice.pnJid), 15_000)
  const child = spawn(PYTHON, [CLIENT, w.server.url, w.alice.pnJid], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  child.stdout.on('data', async (d) => {
    out += d
    const m = /POLL (\S+)/.exec(String(d))
    if (!m) return
    await w.fake.waitForPoll(m[1]!, { timeoutMs: 10_000 })
    await waitFor('alice has the poll', () => w.alice.receivedPoll(m[1]!))
    await w.alice.vote({ pollId: m[1]!, options: ['Two'] })
  })
  const code = await exited
  clearTimeout(timer)
  assert.is(code, 0, `python client failed:\n${err}\n${out}`)
  assert.match(out, /OK/)
})

gui.run()
