import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from '../fake-wa/index.ts'
import { pairByQr } from '../harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from '../harness/server-process.ts'
import {
  deliveryReceipts, describeVote, journal, KILLS, missingFromJournal, readyWithoutQr, seeded, SEED, sleep,
  tallyDifferences, type PollInfo, type Rng, type SentVote,
} from './crash-kit.ts'

/**
 * kill -9 while the fake WhatsApp floods votes: after every restart each vote the client had
 * acknowledged (sent a delivery receipt for) is in the journal; votes delivered but not
 * acknowledged are redelivered by the fake (as WhatsApp does) and count too; the final tally
 * equals the one computed from the votes alone.
 */

const GROUP = '120363000000000077@g.us'
const VOTERS = 10
/**
 * Votes per second the fake sends, also while the server is down (those wait offline). Below
 * what the server drains on a slow disk (about 40 a second with 2 ms fsyncs), so the backlog
 * stays bounded and every kill still finds votes in flight.
 */
const RATE = Math.min(500, Math.max(1, Number(process.env.CRASH_RATE) || 25))

interface World {
  fake: FakeWhatsApp
  contacts: FakeContact[]
  server: ServerProcess
  dataDir: string
  polls: PollInfo[]
  sent: SentVote[]
  /** the kill schedule; the votes draw from their own stream, so the schedule is the same for a seed */
  rng: Rng
  voteRng: Rng
  report: Record<string, number>
  /** votes sent but not acknowledged when some kill hit: the fake redelivers them, they must count too */
  unackedAtSomeKill: Set<string>
}

const crash = suite<World>(`kill -9 during a vote flood (${KILLS} kills, seed ${SEED})`, {} as World)

crash.before(async (w) => {
  w.rng = seeded(SEED)
  w.voteRng = seeded(SEED ^ 0x5bd1e995)
  w.sent = []
  w.report = { kills: 0, killsBeforeReady: 0, checkedAfterRestart: 0 }
  w.unackedAtSomeKill = new Set()
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000071', ownerLid: '900000000000071', defaultTimeoutMs: 10_000 })
  w.contacts = Array.from({ length: VOTERS }, (_, i) =>
    w.fake.addContact({ pn: `155522200${String(i).padStart(2, '0')}`, lid: `8100000000${String(i).padStart(2, '0')}`, name: `Voter ${i}` }))
  w.fake.addGroup({ id: GROUP, subject: 'Crash club', participants: w.contacts })
  w.dataDir = tempDir('pollwire-crash-')
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: { LOG_LEVEL: 'info' } })
})

/** CRASH_LOG_DIR=dir keeps each server generation's log (they die with kill -9 otherwise). */
function keepLogs(server: ServerProcess, generation: number | string): void {
  const dir = process.env.CRASH_LOG_DIR
  if (dir) writeFileSync(join(dir, `votes-${generation}.log`), server.logs.join('\n'))
}

crash.after(async (w) => {
  if (w.server) keepLogs(w.server, 'last')
  await w.server?.kill9()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

crash('pair, then send a group poll and a 1:1 poll', async (w) => {
  await pairByQr(w.server, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  const send = async (chatId: string, options: string[], multi: boolean) => {
    const res = await w.server.post('/send-poll', { chatId, question: `Crash ${options.length}?`, options, allowMultipleAnswers: multi })
    assert.is(res.status, 200, JSON.stringify(res.body))
    await w.fake.waitForPoll(res.body.pollMsgId)
    return res.body.pollMsgId as string
  }
  const groupId = await send(GROUP, ['Pizza', 'Sushi', 'Tacos', 'Salad'], true)
  const dmId = await send(w.contacts[0]!.pnJid, ['Yes', 'No', 'Maybe'], false)
  const groupSecret = (await waitFor('group poll decrypted', () => w.contacts[1]!.receivedPoll(groupId))).messageSecret
  const dmSecret = (await waitFor('1:1 poll decrypted', () => w.contacts[0]!.receivedPoll(dmId))).messageSecret
  w.polls = [
    { id: groupId, options: ['Pizza', 'Sushi', 'Tacos', 'Salad'], single: false, secret: groupSecret },
    { id: dmId, options: ['Yes', 'No', 'Maybe'], single: true, secret: dmSecret },
  ]
})

/** Votes from random voters on both polls: new choices, changes, retractions and late older votes. */
function flood(w: World, stop: { now: boolean }): Promise<void> {
  const base = Date.now()
  let fresh = 0
  let late = 0
  const deadline = Date.now() + 15 * 60_000
  return (async () => {
    while (!stop.now && Date.now() < deadline && w.sent.length < 200_000) {
      const rng = w.voteRng
      const voter = rng.pick(w.contacts)
      const poll = rng.pick(w.polls)
      const options = poll.single
        ? rng.pick([[], [poll.options[0]!], [poll.options[1]!], [poll.options[2]!]])
        : poll.options.filter(() => rng.chance(0.4))
      // one vote in ten is older than everything before it: it must never win
      const ts = rng.chance(0.1) ? base - 1_000_000 + ++late : base + ++fresh
      // a 1:1 poll reaches only its contact; the others vote on it from their own chat, with its secret
      const id = await voter.vote({ pollId: poll.id, options, senderTimestampMs: ts, messageSecret: poll.secret })
      w.sent.push({ id, voter, pollId: poll.id, options, ts })
      await sleep(1000 / RATE)
    }
  })()
}

crash(`${KILLS} kills at random moments: every acknowledged vote survives each one`, async (w) => {
  const stop = { now: false }
  const flooding = flood(w, stop)
  try {
    for (let k = 1; k <= KILLS; k++) {
      // from the moment /health answers: early ones land in the login and the offline flush
      const delay = w.rng.chance(0.25) ? w.rng.int(0, 150) : w.rng.int(150, 2000)
      let ready = false
      const until = Date.now() + delay
      while (Date.now() < until) {
        const { body } = await w.server.get('/status')
        assert.ok(body.status !== 'qr_pending' && body.status !== 'logged_out', `kill ${k}: asked to pair again (${body.status})`)
        ready ||= body.status === 'ready'
        await sleep(Math.min(100, Math.max(0, until - Date.now())))
      }
      await w.server.kill9()
      keepLogs(w.server, k)
      // what the fake holds once the dead connection is closed on its side
      await waitFor('the fake to see the connection close', () => w.fake.openConnections === 0, 5000)
      const acked = deliveryReceipts(w.fake)
      const sentSoFar = [...w.sent]
      const ackedVotes = sentSoFar.filter((v) => acked.has(v.id))
      w.report.kills++
      if (!ready) w.report.killsBeforeReady++
      for (const v of sentSoFar) if (!acked.has(v.id)) w.unackedAtSomeKill.add(v.id)

      const t0 = Date.now()
      w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: { LOG_LEVEL: 'info' } })
      if (process.env.CRASH_VERBOSE) console.log(`  kill ${k} after ${delay} ms (ready: ${ready}): ${ackedVotes.length}/${sentSoFar.length} acked, restart ${Date.now() - t0} ms, offline ${w.fake.pendingOffline}`)
      const missing = missingFromJournal(ackedVotes, await journal(w.server, w.polls.map((p) => p.id)))
      w.report.checkedAfterRestart += ackedVotes.length
      assert.ok(!missing.length, `kill ${k} (after ${delay} ms): ${missing.length} of ${ackedVotes.length} acknowledged votes are not in the journal:\n` +
        missing.slice(0, 10).map(describeVote).join('\n'))
    }
  } finally {
    stop.now = true
    await flooding
  }
  await readyWithoutQr(w.server)
})

crash('after the last restart every vote is acknowledged, journaled and counted as the votes say', async (w) => {
  const all = w.sent
  const t0 = Date.now()
  let acked = deliveryReceipts(w.fake)
  try {
    await waitFor('every vote acknowledged', () => {
      acked = deliveryReceipts(w.fake)
      return all.every((v) => acked.has(v.id))
    }, 120_000)
  } catch {
    const retried = new Set(w.fake.receipts.filter((r) => r.type === 'retry').map((r) => r.id))
    const open = all.filter((v) => !acked.has(v.id))
    assert.unreachable(`${open.length} of ${all.length} votes never acknowledged (${open.filter((v) => retried.has(v.id)).length} with a retry receipt; ` +
      `${w.fake.pendingOffline} still queued):\n${open.slice(0, 10).map(describeVote).join('\n')}`)
  }
  if (process.env.CRASH_VERBOSE) console.log(`  all acknowledged after ${Date.now() - t0} ms`)
  const rows = await journal(w.server, w.polls.map((p) => p.id))
  const missing = missingFromJournal(all, rows)
  assert.ok(!missing.length, `${missing.length} of ${all.length} votes not in the journal:\n${missing.slice(0, 10).map(describeVote).join('\n')}`)
  const entries = [...rows.values()].flat()
  const odd = entries.filter((e) => e.status === 'pending' || e.status === 'rejected')
  assert.ok(!odd.length, `rows not counted: ${JSON.stringify(odd.slice(0, 5))}`)
  const diff = await tallyDifferences(w.server, w.polls, all)
  assert.ok(!diff.length, diff.join('\n'))
  const duplicates = entries.filter((e) => e.status === 'duplicate').length
  console.log(`  crash: seed ${SEED}, ${w.report.kills} kills survived (${w.report.killsBeforeReady} before ready), ${all.length} votes sent; ` +
    `after each restart every vote acknowledged before the kill was in the journal (${w.report.checkedAfterRestart} checks); ` +
    `${w.unackedAtSomeKill.size} votes unacknowledged at some kill, all counted in the end (${w.fake.redeliveredCount} redeliveries, ` +
    `${w.fake.retriesAnsweredCount} retry receipts answered); ${entries.length} journal rows (${duplicates} duplicates); tallies of both polls equal the votes'`)
})

crash.run()
