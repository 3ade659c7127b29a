import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { startFakeWhatsApp } from '../../e2e/fake-wa/index.ts'
import type { LinkedGroup } from '../../e2e/harness/linked.ts'
import { guiSocket } from '../../e2e/harness/gui-socket.ts'
import { removeDir, startServer, tempDir, waitFor } from '../../e2e/harness/server-process.ts'
import { leaks, secret, storedSecrets, text, type Secret } from './secret-forms.ts'

/**
 * No credential, secret, vote payload or token in any log line at any level (issue #7): the
 * real server at LOG_LEVEL=trace with API_TOKEN set goes through a whole day — pairing, polls,
 * votes, a wrong token, logout — and then every line it wrote (stdout and stderr, pino and
 * whatever a dependency printed) is searched for every secret it held.
 */

const TOKEN = 'log-test-token-6f1d0c9a7b3e5d2f'
const WRONG_TOKEN = 'wrong-token-aa55aa55aa55aa55aa55'
const GROUP = '120363000000000077@g.us'

/** The linked-group scenario, plus what this suite keeps. */
interface World extends LinkedGroup {
  secrets: Secret[]
}
const logs = suite<World>('no secrets in the server log (LOG_LEVEL=trace)', { secrets: [] } as unknown as World)

logs.before(async (w) => {
  w.secrets = [text('API_TOKEN', TOKEN), text('a wrong token', WRONG_TOKEN)]
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000001', ownerLid: '900000000000001' })
  w.alice = w.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  w.bob = w.fake.addContact({ pn: '15551110002', lid: '80000000002', name: 'Bob' })
  w.fake.addGroup({ id: GROUP, subject: 'Secret club', participants: [w.alice, w.bob] })
  w.dataDir = tempDir()
  w.server = await startServer({ waWsUrl: w.fake.url, dataDir: w.dataDir, token: TOKEN, env: { LOG_LEVEL: 'trace' } })
})

logs.after(async (w) => {
  await w.server?.stop()
  await w.fake?.close()
  if (w.dataDir) removeDir(w.dataDir)
})

const qrOnStatus = async (w: World) => waitFor('a QR on /status', async () => {
  const s = await w.server.get('/status')
  return s.body.status === 'qr_pending' && s.body.qrCode ? (s.body.qrCode as string) : undefined
}, 20_000)

const qrSecrets = (qr: string): Secret[] => {
  // https://wa.me/settings/linked_devices#ref,noisePublic,identityPublic,advSecret,platform (rc14):
  // the ref and the adv secret are what a log must not show
  const [ref, , , adv] = qr.slice(qr.indexOf('#') + 1).split(',')
  assert.ok(ref && adv && Buffer.from(adv, 'base64').length === 32, `unexpected QR layout: ${qr}`)
  return [text('QR ref', ref), text('QR string', qr), secret('QR advSecretKey', Buffer.from(adv, 'base64'))]
}

logs('a whole day at trace level: pair, polls, votes, a wrong token, logout', async (w) => {
  const qr = await qrOnStatus(w)
  w.secrets.push(...qrSecrets(qr))
  await w.fake.phone.scanQr(qr)
  await waitFor('ready', async () => (await w.server.get('/status')).body.status === 'ready', 30_000)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  const gui = guiSocket(w.server.url, TOKEN)
  try {
    const dm = await w.server.post('/send-poll', { chatId: w.alice.pnJid, question: 'Secret ballot?', options: ['Yes', 'No'] })
    assert.is(dm.status, 200)
    const group = await w.server.post('/send-poll', { chatId: GROUP, question: 'Where?', options: ['Here', 'There'], allowMultipleAnswers: true })
    assert.is(group.status, 200)
    for (const id of [dm.body.pollMsgId, group.body.pollMsgId]) {
      const rec = await w.fake.waitForPoll(id, { timeoutMs: 10_000 })
      for (const v of rec.voters) w.secrets.push(secret(`poll ${id} messageSecret (as ${v.recipient} got it)`, v.messageSecret))
    }
    await waitFor('alice and bob have the polls', () => w.alice.receivedPoll(dm.body.pollMsgId) && w.bob.receivedPoll(group.body.pollMsgId))
    await w.alice.vote({ pollId: dm.body.pollMsgId, options: ['No'] })
    await w.alice.vote({ pollId: group.body.pollMsgId, options: ['Here', 'There'] })
    await w.bob.vote({ pollId: group.body.pollMsgId, options: ['There'] })
    await w.bob.vote({ pollId: group.body.pollMsgId, options: [] })
    await waitFor('the votes counted', async () => {
      const polls = (await w.server.get('/get-all-poll-data')).body.polls
      return polls[dm.body.pollMsgId]?.results.No === 1 && polls[group.body.pollMsgId]?.results.Here === 1 ? true : undefined
    }, 15_000)
    for (const path of [`/polls/${dm.body.pollMsgId}/votes`, `/polls/${group.body.pollMsgId}/results.csv`, '/metrics', '/get-chats']) {
      assert.is((await fetch(`${w.server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, path)
    }
    const wrong = await fetch(`${w.server.url}/get-all-poll-data`, { headers: { authorization: `Bearer ${WRONG_TOKEN}` } })
    assert.is(wrong.status, 401)
    await waitFor('the GUI saw the votes', () => gui.of('poll_update_to_gui').length >= 2)

    // Everything the store holds now, before logout clears the credentials and Signal keys.
    const held = await storedSecrets(w.dataDir)
    assert.ok(held.creds.length >= 4, `credentials found: ${held.creds.map((s) => s.what)}`)
    assert.ok(held.keys.length > 0, 'Signal keys found')
    assert.ok(held.votes.length >= 8, `votes found: ${held.votes.length}`)
    w.secrets.push(...held.creds, ...held.keys, ...held.pollSecrets, ...held.votes)

    const out = await w.server.post('/logout', {})
    assert.is(out.status, 200)
    w.secrets.push(...qrSecrets(await qrOnStatus(w)))
    w.secrets.push(...(await storedSecrets(w.dataDir)).creds)
  } finally {
    gui.close()
  }
})

logs('no line the server wrote holds any of them', async (w) => {
  assert.is(await w.server.stop(), 0)
  const lines = w.server.logs
  if (process.env.PW_LOG_DUMP) writeFileSync(process.env.PW_LOG_DUMP, lines.join('\n'))
  // The level took effect: our own debug lines are there (Baileys stays at info by design).
  assert.ok(lines.some((l) => l.includes('"level":20') && l.includes('"msg":"socket.io attached"')), 'debug lines were written')
  assert.ok(lines.length > 50, `only ${lines.length} lines`)
  const found = leaks(lines, w.secrets)
  assert.equal(found, [], `${found.length} leaking lines (of ${lines.length}, ${w.secrets.length} secrets):\n${found.join('\n')}`)
})

logs.run()
