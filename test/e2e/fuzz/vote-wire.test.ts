import { randomBytes } from 'node:crypto'
import type { proto } from '@whiskeysockets/baileys'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encryptPollVote } from '../fake-wa/index.ts'
import { startLinkedGroup, type LinkedGroup } from '../harness/linked.ts'
import { removeDir, waitFor } from '../harness/server-process.ts'

/**
 * Malformed pollUpdateMessages sent through the fake WhatsApp, end to end: real Signal
 * encryption, real Baileys, the Signal-layer journal. Each is acknowledged, journaled as
 * rejected or pending with its reason (or ignored, when it is not a vote at all), the tally
 * stays as it was and the server stays up.
 */

const GROUP = '120363000000000079@g.us'
const own = { pn: '15550000075@s.whatsapp.net', lid: '900000000000075@lid' }

/** The linked-group scenario, plus what this suite keeps. */
interface World extends LinkedGroup {
  multi: string
  single: string
  secret: Record<string, Uint8Array>
}

const wire = suite<World>('malformed votes through the fake WhatsApp', {} as World)

wire.before(async (w) => {
  Object.assign(w, await startLinkedGroup({
    fake: { ownerPn: '15550000075', ownerLid: '900000000000075' },
    alice: { pn: '15552260001', lid: '81000000401' },
    bob: { pn: '15552260002', lid: '81000000402' },
    group: { id: GROUP, subject: 'Wire club' },
    dataDirPrefix: 'pollwire-wire-',
  }))
  const send = async (question: string, options: string[], multi: boolean) => {
    const res = await w.server.post('/send-poll', { chatId: GROUP, question, options, allowMultipleAnswers: multi })
    assert.is(res.status, 200)
    await w.fake.waitForPoll(res.body.pollMsgId)
    return res.body.pollMsgId as string
  }
  w.multi = await send('Lunch?', ['Pizza', 'Sushi', 'Tacos'], true)
  w.single = await send('Coffee?', ['Yes', 'No'], false)
  w.secret = {}
  for (const id of [w.multi, w.single]) w.secret[id] = (await waitFor('alice has the poll', () => w.alice.receivedPoll(id))).messageSecret
  await w.alice.vote({ pollId: w.multi, options: ['Pizza', 'Tacos'] })
  await w.bob.vote({ pollId: w.single, options: ['No'] })
  await waitFor('the two valid votes count', async () => {
    const { body } = await w.server.get('/get-all-poll-data')
    return body.polls[w.multi].results.Pizza === 1 && body.polls[w.single].results.No === 1
  })
})

wire.after(async (w) => {
  await w.server?.stop()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

let stamp = Date.now()

/** A pollUpdateMessage from alice in the group, built by hand. */
function update(w: World, pollId: string, vote: proto.Message.IPollEncValue | undefined, extra: Partial<proto.Message.IPollUpdateMessage> = {}): { message: proto.IMessage; ts: number } {
  const pollUpdateMessage = {
    pollCreationMessageKey: { remoteJid: GROUP, fromMe: false, id: pollId, participant: own.lid },
    vote,
    senderTimestampMs: ++stamp,
    ...extra,
  }
  return { ts: Number(pollUpdateMessage.senderTimestampMs), message: { pollUpdateMessage } }
}

const sealed = (w: World, pollId: string, options: string[]) =>
  encryptPollVote(options, { pollMsgId: pollId, pollCreatorJid: own.lid, voterJid: w.alice.lidJid, messageSecret: w.secret[pollId] ?? randomBytes(32) })

interface Case { what: string; build: (w: World) => { message: proto.IMessage; ts: number }; expect: { status: 'rejected' | 'pending' | 'ignored'; reason?: string; poll?: 'multi' | 'single' } }

const CASES: Case[] = [
  { what: 'an IV of 5 bytes', build: (w) => update(w, w.multi, { ...sealed(w, w.multi, ['Sushi']), encIv: randomBytes(5) }), expect: { status: 'rejected', reason: 'bad_iv', poll: 'multi' } },
  { what: 'an empty IV', build: (w) => update(w, w.multi, { ...sealed(w, w.multi, ['Sushi']), encIv: new Uint8Array(0) }), expect: { status: 'rejected', reason: 'bad_iv', poll: 'multi' } },
  { what: 'a payload cut to 8 bytes', build: (w) => { const v = sealed(w, w.multi, ['Sushi']); return update(w, w.multi, { ...v, encPayload: v.encPayload.subarray(0, 8) }) }, expect: { status: 'rejected', reason: 'truncated', poll: 'multi' } },
  { what: 'a payload cut by one byte', build: (w) => { const v = sealed(w, w.multi, ['Sushi']); return update(w, w.multi, { ...v, encPayload: v.encPayload.subarray(0, v.encPayload.length - 1) }) }, expect: { status: 'pending', reason: 'no_key', poll: 'multi' } },
  { what: 'option hashes that match no option', build: (w) => update(w, w.multi, sealed(w, w.multi, ['Burgers', 'Pasta'])), expect: { status: 'rejected', reason: 'unknown_option', poll: 'multi' } },
  { what: 'two options on a single-choice poll', build: (w) => update(w, w.single, sealed(w, w.single, ['Yes', 'No'])), expect: { status: 'rejected', reason: 'too_many_options', poll: 'single' } },
  { what: '300 random bytes', build: (w) => update(w, w.multi, { encPayload: randomBytes(300), encIv: randomBytes(12) }), expect: { status: 'pending', reason: 'no_key', poll: 'multi' } },
  { what: 'a 256 KiB payload', build: (w) => update(w, w.multi, { encPayload: randomBytes(256 * 1024), encIv: randomBytes(12) }), expect: { status: 'pending', reason: 'no_key', poll: 'multi' } },
  { what: 'a poll nobody knows', build: (w) => update(w, '3EB0000000000000DEAD00', sealed(w, '3EB0000000000000DEAD00', ['Sushi'])), expect: { status: 'pending', reason: 'unknown_poll' } },
  { what: 'no vote inside', build: (w) => update(w, w.multi, undefined), expect: { status: 'ignored' } },
  { what: 'no poll key', build: (w) => ({ ...update(w, w.multi, sealed(w, w.multi, ['Sushi']), { pollCreationMessageKey: null }) }), expect: { status: 'ignored' } },
  { what: 'a negative sender timestamp', build: (w) => update(w, w.multi, { encPayload: randomBytes(64), encIv: randomBytes(12) }, { senderTimestampMs: -5 }), expect: { status: 'pending', reason: 'no_key', poll: 'multi' } },
]

wire('each is acknowledged and journaled with its reason (or ignored); no tally moves; the server stays up', async (w) => {
  const before = (await w.server.get('/get-all-poll-data')).body.polls
  const metrics = async () => (await (await fetch(`${w.server.url}/metrics`)).text())
  const pendingUnknown = async () => Number(/^pollwire_votes_pending\{account="default",reason="unknown_poll"\} (\d+)/m.exec(await metrics())?.[1] ?? 0)
  const unknownBefore = await pendingUnknown()
  for (const c of CASES) {
    const { message, ts } = c.build(w)
    const id = await w.alice.send(message, 'poll', { chatId: GROUP })
    await w.fake.waitForReceipt(id, { timeoutMs: 10_000 }).catch(() => assert.unreachable(`${c.what}: never acknowledged`))
    const { status, reason, poll } = c.expect
    if (poll) {
      const pollId = poll === 'multi' ? w.multi : w.single
      const entry = await waitFor(`${c.what} in the history`, async () =>
        ((await w.server.get(`/polls/${pollId}/votes`)).body.votes as Array<any>).find((v) => v.senderTimestamp === ts))
      assert.is(entry.status, status, c.what)
      assert.is(entry.reason, reason, c.what)
      // by LID until the upsert sighting adds the phone number to the Signal-layer row
      assert.ok([w.alice.pnJid, w.alice.lidJid].includes(entry.voter), `${c.what}: the history names the sender (${entry.voter})`)
    }
    if (reason === 'unknown_poll') await waitFor(`${c.what} pending`, async () => (await pendingUnknown()) === unknownBefore + 1)
  }
  await w.alice.sendText('still there?')
  assert.equal((await w.server.get('/get-all-poll-data')).body.polls, before, 'no tally changed')
  assert.is((await w.server.get('/health')).status, 200)
  // Baileys logs its own failures (a vote without a poll key throws in its process-message,
  // after the receipt, and is caught there); pollwire itself logs none
  const ours = w.server.logs.filter((l) => /"level":(50|60)/.test(l) && !/"module":"baileys"/.test(l))
  assert.ok(!ours.length, `pollwire logged errors:\n${ours.slice(0, 3).join('\n')}`)
  // and a valid vote still counts afterwards
  await w.alice.vote({ pollId: w.single, options: ['Yes'] })
  await waitFor('a valid vote after the malformed ones', async () => (await w.server.get(`/polls/${w.single}`)).body.results?.Yes === 1)
})

wire.run()
