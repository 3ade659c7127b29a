/**
 * The load test's second path (test-only): the real app — createApp, the vote engine on a
 * real SQLite file, the router, Socket.IO — in its own process, with a fake Baileys socket in
 * place of WhatsApp. Votes are encrypted with session/vote-crypto.ts and handed over exactly
 * where real Baileys hands them over: first the Signal-layer hook (onPlaintext, before the
 * ack), then `messages.upsert` with the same message. Everything after Signal decryption is
 * the production code; only the WhatsApp transport is skipped.
 *
 * Driven by the parent over IPC (see test/load/run.ts):
 *   → { cmd: 'flood', rate, seconds, maxInFlight, membersPerGroup }
 *                          ← { type: 'tick', ... } each second, then { type: 'flood-done', ... }
 *   → { cmd: 'memory' }    ← { type: 'memory', ...process.memoryUsage() } after a full GC (--expose-gc)
 *   → { cmd: 'stop' }      ← exits 0 after app.shutdown()
 * Polls are created by the parent through POST /send-poll; their secrets are read back from
 * what the fake socket was asked to send.
 */
import pino from 'pino'
import { createApp } from '../../runtime/app.ts'
import { parseConfig } from '../../runtime/config.ts'
import { encryptPollVote, optionHashBytes } from '../../core/votes/crypto.ts'
import { fakeSocketFactory, type FakeSocket } from '../core/whatsapp/fake-socket.ts'

const OWN = { id: '15550000001:2@s.whatsapp.net', name: 'Load Owner', lid: '900000000000001:2@lid' }
const CREATOR = '15550000001@s.whatsapp.net'

const config = parseConfig(process.env)
const log = pino({ level: config.logLevel })
const sockets = fakeSocketFactory()
const app = await createApp(config, log, sockets.factory)

interface Known { id: string; chatId: string; options: string[]; single: boolean; secret: Uint8Array; voters: string[] }

const send = (msg: unknown) => { if (process.send) process.send(msg) }
const rss = () => process.memoryUsage().rss

/** Polls this process was asked to send, with the secret the fake socket saw. */
function knownPolls(sock: FakeSocket, votersOf: (chatId: string) => string[]): Known[] {
  const out: Known[] = []
  for (const s of sock.sent) {
    const poll = (s.content as { poll?: { values: string[]; selectableCount: number; messageSecret: Uint8Array } }).poll
    const id = s.options?.messageId
    if (!poll || !id) continue
    out.push({ id, chatId: s.jid, options: poll.values, single: poll.selectableCount === 1, secret: poll.messageSecret, voters: votersOf(s.jid) })
  }
  return out
}

/** Group `120363…N@g.us` has members 1556NNNVVVV; a 1:1 poll's only voter is its chat. */
function votersOf(membersPerGroup: number) {
  return (chatId: string): string[] => {
    if (!chatId.endsWith('@g.us')) return [chatId]
    const g = Number(chatId.split('@')[0]!.slice(-3))
    return Array.from({ length: membersPerGroup }, (_, i) => `1556${String(g).padStart(3, '0')}${String(i).padStart(4, '0')}@s.whatsapp.net`)
  }
}

let seed = 0x2545f491
/** xorshift: the same vote sequence on every run */
function rand(n: number): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
  return ((seed >>> 0) % n)
}

function choose(p: Known): string[] {
  if (rand(20) === 0) return [] // about 5 % retract
  if (p.single) return [p.options[rand(p.options.length)]!]
  const picked = p.options.filter(() => rand(2) === 0)
  return picked.length ? picked : [p.options[0]!]
}

async function flood(rate: number, seconds: number, maxInFlight: number, membersPerGroup: number) {
  const sock = sockets.last()
  const polls = knownPolls(sock, votersOf(membersPerGroup))
  if (!polls.length) throw new Error('no polls to vote on')
  const hashes = new Map<string, Uint8Array>()
  const hashOf = (t: string) => { let h = hashes.get(t); if (!h) hashes.set(t, (h = optionHashBytes(t))); return h }
  let generated = 0
  let committed = 0
  let failed = 0
  let inFlight = 0
  let maxSeen = 0
  let stalledTicks = 0
  let msgSeq = 0
  const started = performance.now()
  const end = started + seconds * 1000
  let lastReport = started
  let lastCommitted = 0

  const one = () => {
    const p = polls[rand(polls.length)]!
    const voter = p.voters[rand(p.voters.length)]!
    const isGroup = p.chatId.endsWith('@g.us')
    const { encPayload, encIv } = encryptPollVote({
      pollMsgId: p.id, pollCreatorJid: CREATOR, voterJid: voter, secret: p.secret,
      selectedOptions: choose(p).map(hashOf),
    })
    const senderTimestampMs = Date.now()
    const message = {
      pollUpdateMessage: {
        pollCreationMessageKey: { remoteJid: isGroup ? p.chatId : CREATOR, fromMe: false, id: p.id, ...(isGroup ? { participant: CREATOR } : {}) },
        vote: { encPayload, encIv },
        senderTimestampMs,
      },
    }
    const msgId = `LOAD${(++msgSeq).toString(16).toUpperCase().padStart(12, '0')}`
    generated++
    inFlight++
    // As Baileys does: the Signal-layer hook is awaited before the ack, then messages.upsert.
    sock.opts.onPlaintext!({ chatId: isGroup ? p.chatId : voter, author: voter, message: message as never })
      .then(() => {
        sock.emit('messages.upsert', {
          type: 'notify',
          messages: [{
            key: { remoteJid: isGroup ? p.chatId : voter, fromMe: false, id: msgId, ...(isGroup ? { participant: voter } : {}) },
            message,
            messageTimestamp: Math.floor(senderTimestampMs / 1000),
            pushName: `Voter ${voter.slice(4, 11)}`,
          }],
        })
        committed++
      }, () => { failed++ })
      .finally(() => { inFlight-- })
  }

  await new Promise<void>((resolve) => {
    // 10 ms ticks; each tick catches up to where `rate` says we should be (bounded by maxInFlight).
    const timer = setInterval(() => {
      const now = performance.now()
      const due = Math.min(now, end) - started
      const target = Math.floor((due / 1000) * rate)
      let made = 0
      while (generated < target && inFlight < maxInFlight && made < rate) { one(); made++ }
      if (generated < target && inFlight >= maxInFlight) stalledTicks++
      maxSeen = Math.max(maxSeen, inFlight)
      if (now - lastReport >= 1000) {
        send({ type: 'tick', t: Math.round(now - started), generated, committed, perSecond: Math.round((committed - lastCommitted) * 1000 / (now - lastReport)), inFlight, rss: rss() })
        lastReport = now
        lastCommitted = committed
      }
      if (now >= end) { clearInterval(timer); resolve() }
    }, 10)
  })
  const genMs = performance.now() - started
  const drainDeadline = Date.now() + 120_000
  while (inFlight > 0 && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 20))
  const totalMs = performance.now() - started
  send({
    type: 'flood-done', generated, committed, failed, inFlight, maxInFlight: maxSeen, stalledTicks,
    generateMs: Math.round(genMs), drainedMs: Math.round(totalMs),
    offeredRate: Math.round(generated * 1000 / genMs), committedRate: Math.round(committed * 1000 / totalMs),
    rss: rss(),
  })
}

process.on('message', (msg: { cmd: string; rate?: number; seconds?: number; maxInFlight?: number; membersPerGroup?: number }) => {
  if (msg.cmd === 'flood') {
    flood(msg.rate ?? 1000, msg.seconds ?? 60, msg.maxInFlight ?? 20_000, msg.membersPerGroup ?? 200)
      .catch((err: unknown) => send({ type: 'error', message: String((err as Error)?.stack ?? err) }))
  } else if (msg.cmd === 'memory') {
    // With --expose-gc: a full collection first, so the figure is what is live, not what is lazy.
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.(); gc?.()
    send({ type: 'memory', gc: !!gc, ...process.memoryUsage() })
  } else if (msg.cmd === 'stop') {
    app.shutdown().then(() => process.exit(0), () => process.exit(1))
  }
})

app.server.listen(config.port, config.host, async () => {
  app.session.start()
  await new Promise((resolve) => setImmediate(resolve))
  sockets.last().open(OWN)
  send({ type: 'ready', port: (app.server.address() as { port: number }).port })
})
