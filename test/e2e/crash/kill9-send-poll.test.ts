import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { FakeWhatsApp } from '../fake-wa/index.ts'
import { startLinkedGroup, type LinkedGroup } from '../harness/linked.ts'
import { removeDir, startServer, waitFor } from '../harness/server-process.ts'
import { KILLS, readyWithoutQr, seeded, SEED, sleep, type Rng } from './crash-kit.ts'

/**
 * kill -9 right after POST /send-poll, at random moments of the send: every poll that reached
 * WhatsApp is in the store with its secret after the restart, so votes for it count.
 */

const GROUP = '120363000000000078@g.us'

/** The linked-group scenario, plus what this suite keeps. */
interface World extends LinkedGroup {
  rng: Rng
  /** question → chat, for every POST issued */
  issued: Map<string, string>
  answered: number
}

const crash = suite<World>(`kill -9 during POST /send-poll (${KILLS} kills, seed ${SEED})`, {} as World)

crash.before(async (w) => {
  w.rng = seeded(SEED + 1)
  w.issued = new Map()
  w.answered = 0
  Object.assign(w, await startLinkedGroup({
    fake: { ownerPn: '15550000072', ownerLid: '900000000000072', defaultTimeoutMs: 10_000 },
    alice: { pn: '15552230001', lid: '81000000101' },
    bob: { pn: '15552230002', lid: '81000000102' },
    group: { id: GROUP, subject: 'Send club' },
    dataDirPrefix: 'pollwire-crash-send-',
  }))
})

crash.after(async (w) => {
  await w.server?.kill9()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

/** Resolves when the client sends the fake an IQ, or a poll message (or after `ms`). */
function clientStanza(fake: FakeWhatsApp, what: 'iq' | 'poll', ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); fake.events.off('stanza', on); resolve() }
    const on = (r: { direction: string; node: { tag: string; attrs: Record<string, string> } }) => {
      if (r.direction !== 'from-client') return
      if (what === 'iq' ? r.node.tag === 'iq' : r.node.tag === 'message' && r.node.attrs.type === 'poll') done()
    }
    const timer = setTimeout(done, ms)
    fake.events.on('stanza', on)
  })
}

crash(`${KILLS} kills right after the POST is issued`, async (w) => {
  for (let k = 1; k <= KILLS; k++) {
    const chatId = w.rng.chance(0.5) ? GROUP : w.alice.pnJid
    const question = `Crash send ${k}?`
    w.issued.set(question, chatId)
    const post = w.server.post('/send-poll', { chatId, question, options: ['One', 'Two', 'Three'], allowMultipleAnswers: chatId === GROUP })
      .then((res) => { if (res.status === 200) w.answered++ }, () => undefined)
    // The send takes 20 to 120 ms: device lists and prekeys (IQs), encryption, the message.
    // A quarter of the kills land anywhere early, a quarter while the client talks to WhatsApp
    // about the send, half the moment the poll itself is on the wire (before the server has
    // marked it sent). CRASH_SEND_TRIGGER=any|iq|poll forces one.
    const forced = ['any', 'iq', 'poll'].indexOf(process.env.CRASH_SEND_TRIGGER ?? '')
    const mode = forced >= 0 ? forced : w.rng.pick([0, 1, 2, 2])
    const trigger = mode === 0 ? Promise.resolve() : clientStanza(w.fake, mode === 1 ? 'iq' : 'poll', 2000)
    await trigger.then(() => sleep(w.rng.int(0, mode === 0 ? 40 : mode === 1 ? 15 : 2)))
    await w.server.kill9()
    await post
    await waitFor('the fake to see the connection close', () => w.fake.openConnections === 0, 5000)
    w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, env: { LOG_LEVEL: 'info' } })
    await readyWithoutQr(w.server)
  }
})

crash('every poll WhatsApp received is stored with its secret: a vote for it counts after the restart', async (w) => {
  await sleep(200)
  const received = w.fake.polls.filter((p) => p.voters.some((v) => w.issued.has(v.question)))
  const stored = (await w.server.get('/get-all-poll-data')).body.polls as Record<string, any>
  for (const record of received) {
    const copy = record.voters[0]!
    const poll = stored[record.id]
    assert.ok(poll, `poll "${copy.question}" (${record.id}) reached WhatsApp but is not in the store`)
    assert.is(poll.question, copy.question)
    assert.equal(poll.options, copy.options)
    const voter = copy.recipient === w.bob.pn ? w.bob : w.alice
    await voter.vote({ pollId: record.id, options: ['Two'], messageSecret: copy.messageSecret })
    await waitFor(`a vote for "${copy.question}" to count`, async () => {
      const p = (await w.server.get(`/polls/${record.id}`)).body
      return p.results?.Two === 1
    }, 10_000)
  }
  const metrics = await (await fetch(`${w.server.url}/metrics`)).text()
  assert.not.match(metrics, /pollwire_votes_pending\{account="default",reason="no_key"\} [1-9]/, 'no vote waits for a key')
  const receivedIds = new Set(received.map((r) => r.id))
  const notReceived = Object.entries(stored).filter(([id, p]) => w.issued.has(p.question) && !receivedIds.has(id)).length
  console.log(`  send-poll: seed ${SEED}, ${KILLS} kills, ${w.answered} POSTs answered before the kill, ${received.length} polls reached WhatsApp ` +
    `(all stored, each counted a vote after restart), ${notReceived} stored polls never reached WhatsApp (shown: they may have gone out)`)
})

crash.run()
