import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from '../fake-wa/index.ts'
import { pairByQr } from '../harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from '../harness/server-process.ts'
import { KILLS, seeded, SEED, sleep, type Rng } from './crash-kit.ts'

/**
 * kill -9 at random points of linking: the QR scan, pair-success, the 515 restart, the first
 * login. After each restart the server either shows a fresh QR or logs in; it is never stuck
 * with credentials it cannot use. At the end, a normal pairing works and polls go out.
 */

interface World {
  fake: FakeWhatsApp
  alice: FakeContact
  server: ServerProcess
  dataDir: string
  rng: Rng
  outcomes: { qr: number; loggedIn: number }
}

const crash = suite<World>(`kill -9 during pairing (${KILLS} kills, seed ${SEED})`, {} as World)

crash.before(async (w) => {
  w.rng = seeded(SEED + 2)
  w.outcomes = { qr: 0, loggedIn: 0 }
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000073', ownerLid: '900000000000073', defaultTimeoutMs: 10_000 })
  w.alice = w.fake.addContact({ pn: '15552240001', lid: '81000000201', name: 'Alice' })
  w.dataDir = tempDir('pollwire-crash-pair-')
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: { LOG_LEVEL: 'info' } })
})

crash.after(async (w) => {
  await w.server?.kill9()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

const status = async (server: ServerProcess) => (await server.get('/status').catch(() => ({ body: null as any }))).body

/** A QR to scan: as it is, or after logging out of a session that did log in. */
async function qrToScan(w: World): Promise<string> {
  const first = await waitFor('a QR or ready', async () => {
    const s = await status(w.server)
    return s?.status === 'ready' || (s?.status === 'qr_pending' && s.qrCode) ? s : undefined
  }, 30_000)
  if (first.status === 'qr_pending') return first.qrCode
  const res = await w.server.post('/logout', {})
  assert.is(res.status, 200, JSON.stringify(res.body))
  return (await waitFor('a QR after logout', async () => {
    const s = await status(w.server)
    return s?.status === 'qr_pending' && s.qrCode ? s : undefined
  }, 30_000)).qrCode
}

crash(`${KILLS} kills while linking: every restart ends with a fresh QR or logged in`, async (w) => {
  for (let k = 1; k <= KILLS; k++) {
    const qr = await qrToScan(w)
    const scan = w.fake.phone.scanQr(qr).catch(() => undefined)
    // scan → pair-success → pair-device-sign → 515 → new socket → login: about 100-400 ms
    await sleep(w.rng.int(0, 500))
    await w.server.kill9()
    await scan
    const logs = w.server.logs
    w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: { LOG_LEVEL: 'info' } })
    let last: any
    try {
      const end = await waitFor('a fresh QR or logged in', async () => {
        last = await status(w.server)
        return last?.status === 'ready' || (last?.status === 'qr_pending' && last.qrCode) ? last : undefined
      }, 30_000)
      if (end.status === 'ready') {
        w.outcomes.loggedIn++
        assert.ok(w.fake.linkedDevices.some((d) => end.user.id.startsWith(`${w.fake.ownerPn}:${d.id}@`)), 'logged in as a device WhatsApp knows')
      } else {
        w.outcomes.qr++
      }
    } catch (err) {
      if (process.env.CRASH_LOG_DIR) writeFileSync(join(process.env.CRASH_LOG_DIR, `pairing-${k}.log`), [...logs, '-----', ...w.server.logs].join('\n'))
      throw new Error(`kill ${k}: stuck after the restart (last status ${JSON.stringify(last)}): ${(err as Error).message}\n${w.server.logs.slice(-8).join('\n')}`)
    }
  }
})

crash('after all that, linking works and a poll goes out and counts a vote', async (w) => {
  const s = await status(w.server)
  if (s?.status !== 'ready') await pairByQr(w.server, w.fake)
  const res = await w.server.post('/send-poll', { chatId: w.alice.pnJid, question: 'Linked?', options: ['Yes', 'No'] })
  assert.is(res.status, 200, JSON.stringify(res.body))
  const id = res.body.pollMsgId
  await w.fake.waitForPoll(id)
  await waitFor('alice has the poll', () => w.alice.receivedPoll(id))
  await w.alice.vote({ pollId: id, options: ['Yes'] })
  await waitFor('the vote counts', async () => (await w.server.get(`/polls/${id}`)).body.results?.Yes === 1)
  console.log(`  pairing: seed ${SEED}, ${KILLS} kills while linking: ${w.outcomes.qr} restarts showed a fresh QR, ${w.outcomes.loggedIn} logged in; never stuck`)
})

crash.run()
