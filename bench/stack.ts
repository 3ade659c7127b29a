import { startFakeWhatsApp, type FakeContact } from '../test/e2e/fake-wa/index.ts'
import { profiled } from './profile.ts'
import { cpuMsSince, type Row } from './table.ts'
import { profileArgs, spawnServer, type Spawned } from './server.ts'
import { OPTIONS, removeDir, rng, tempDir } from './votes.ts'

const CONTACTS = Number(process.env.BENCH_STACK_CONTACTS ?? 100)
const VOTES_EACH = Number(process.env.BENCH_STACK_VOTES_EACH ?? 10)
const GROUP = '120363000000000099@g.us'

/**
 * 5. The whole stack: votes from the fake WhatsApp (in this process) to the real server (a child
 * process: real Baileys, Signal decrypt, the engine), first in a group (sender-key `skmsg`, one
 * XEdDSA signature per message), then in 1:1 chats (`msg`, no per-message signature). The
 * fake's cost is taken out and measured alone: its contacts first encrypt every vote and build
 * its stanza while fake.deliver only holds them (timed: the baseline); then the held stanzas go
 * out live, in order, in one burst, and the stack is timed from there until /metrics counts
 * every vote decrypted (then /get-all-poll-data must show the expected tallies).
 */
export async function benchStack(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const dir = tempDir('stack')
  const fake = await startFakeWhatsApp({ defaultTimeoutMs: 30_000 })
  let server: Spawned | undefined
  try {
    const contacts = Array.from({ length: CONTACTS }, (_, i) =>
      fake.addContact({ pn: `1555300${String(i).padStart(4, '0')}`, lid: `7000000${String(i).padStart(4, '0')}`, name: `Voter ${i}` }))
    fake.addGroup({ id: GROUP, subject: 'Bench', participants: contacts })
    server = await spawnServer(dir, {
      // BENCH_STACK_PRELOAD: a module to load into the server before anything imports Baileys;
      // the fake's own preload imports it.
      imports: [...(process.env.BENCH_STACK_PRELOAD ? [process.env.BENCH_STACK_PRELOAD] : []), './test/e2e/fake-wa/preload.mjs'],
      nodeArgs: profileArgs('stack-server'),
      env: { WA_WS_URL: fake.url },
    })
    const s = server
    const get = async (path: string) => (await fetch(s.url + path)).json() as Promise<any>
    await until('a QR', async () => { const st = await get('/status'); return st.status === 'qr_pending' && st.qrCode ? st.qrCode : undefined })
      .then((qr) => fake.phone.scanQr(qr))
    await until('ready', async () => (await get('/status')).status === 'ready' || undefined)
    await fake.waitForInitialSync()
    await until('the group in /get-chats', async () => (await get('/get-chats')).chats?.some((c: { id: string }) => c.id === GROUP) || undefined)
    const sendPoll = async (chatId: string, voters: FakeContact[]): Promise<string> => {
      const sent = await (await fetch(`${s.url}/send-poll`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chatId, question: 'Bench?', options: OPTIONS, allowMultipleAnswers: true }),
      })).json() as { pollMsgId: string }
      await fake.waitForPoll(sent.pollMsgId)
      await until('every voter has the poll', () => voters.every((c) => c.receivedPoll(sent.pollMsgId)) || undefined)
      return sent.pollMsgId
    }

    /** Times `plan` as described above; checks every poll's tally; returns the figures. */
    const measure = async (what: 'group' | '1:1', plan: Planned[][]) => {
      const total = plan.reduce((n, votes) => n + votes.length, 0)
      const before = await decrypted(s)
      // The fake alone: every vote Signal-encrypted and built into its stanza, held instead of sent.
      const deliver = fake.deliver.bind(fake)
      const held: Array<Parameters<typeof deliver>> = []
      fake.deliver = (...args) => { held.push(args) }
      const tf = performance.now()
      await profiled(what === 'group' ? 'stack-fake' : 'stack-fake-1to1', () => sendAll(plan))
      const fakeMs = performance.now() - tf
      fake.deliver = deliver
      const fakeRate = total / (fakeMs / 1000)
      log(`  ${what}, fake alone: ${total} votes encrypted and built in ${Math.round(fakeMs)} ms = ${Math.round(fakeRate)} votes/s (${held.length} stanzas held)`)

      // The stack: the held stanzas go out live, in order, in one burst (noise frames, WebSocket).
      const serverCpu0 = s.cpuMs()
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (const args of held) deliver(...args)
      const sentMs = performance.now() - t0
      await until('every vote decrypted', async () => (await decrypted(s)) - before >= total || undefined, 180_000, 50)
      const ms = performance.now() - t0
      const benchCpuMs = cpuMsSince(cpu0)
      const serverCpuMs = s.cpuMs() - serverCpu0
      const polls = (await get('/get-all-poll-data')).polls
      for (const [pollId, want] of tallies(plan)) {
        const results = polls[pollId].results as Record<string, number>
        if (OPTIONS.some((o, i) => results[o] !== want[i])) throw new Error(`stack (${what}): poll ${pollId} results ${JSON.stringify(results)} ≠ expected ${want}`)
      }
      const rate = total / (ms / 1000)
      const cpuPerVote = serverCpuMs / total
      log(`  ${what}, stack: ${total} votes from ${plan.length} contacts in ${Math.round(ms)} ms (handed to the socket in ${Math.round(sentMs)} ms) = ${Math.round(rate)} votes/s; server CPU ${Math.round(serverCpuMs)} ms (${cpuPerVote.toFixed(2)} ms/vote), fake CPU ${Math.round(benchCpuMs)} ms`)
      return {
        value: rate, unit: 'votes/s', baseline: 'fake WhatsApp alone: encrypt + build the same votes, no client', baselineValue: fakeRate,
        ratio: rate / fakeRate, target: '≥ 1,000/s, ≤ 1 ms server CPU/vote', pass: rate >= 1000 && cpuPerVote <= 1,
        note: `server CPU ${cpuPerVote.toFixed(2)} ms/vote`,
      }
    }

    const groupPoll = await sendPoll(GROUP, contacts)
    const group = await measure('group', planVotes(contacts, () => groupPoll))
    // 1:1: a poll in each contact's chat with the account, voted on by that contact alone
    const direct = new Map<FakeContact, string>()
    for (const c of contacts) direct.set(c, await sendPoll(c.pnJid, [c]))
    const oneToOne = await measure('1:1', planVotes(contacts, (c) => direct.get(c)!))
    const votes = CONTACTS * VOTES_EACH
    return {
      rows: [
        { section: '5. whole stack', measure: `votes/s through real Baileys (${votes.toLocaleString('en')} group votes, ${CONTACTS} contacts, Signal decrypt + XEdDSA check + engine)`, ...group },
        { section: '5. whole stack', measure: `votes/s through real Baileys (${votes.toLocaleString('en')} 1:1 votes, ${CONTACTS} chats, Signal decrypt + engine, no per-message signature)`, ...oneToOne },
      ],
    }
  } finally {
    await server?.stop()
    await fake.close()
    removeDir(dir)
  }
}

interface Planned { contact: FakeContact; pollId: string; options: string[]; ts: number }

/** Each contact votes VOTES_EACH times on its poll, newer each time; the last vote of each is what counts. */
function planVotes(contacts: FakeContact[], pollOf: (c: FakeContact) => string): Planned[][] {
  const rand = rng(11)
  const t = Date.now()
  return contacts.map((contact) => Array.from({ length: VOTES_EACH }, (_, k) => ({
    contact, pollId: pollOf(contact), ts: t + k,
    options: OPTIONS.filter(() => rand() < 0.4),
  })))
}

/** Each poll's expected counts: every contact's last vote. */
function tallies(plan: Planned[][]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const votes of plan) {
    const last = votes[votes.length - 1]!
    const counts = out.get(last.pollId) ?? OPTIONS.map(() => 0)
    for (const o of last.options) counts[OPTIONS.indexOf(o)]++
    out.set(last.pollId, counts)
  }
  return out
}

/** Every contact sends its votes in order; contacts send concurrently. */
async function sendAll(plan: Planned[][]): Promise<void> {
  await Promise.all(plan.map(async (votes) => {
    for (const v of votes) await v.contact.vote({ pollId: v.pollId, options: v.options, senderTimestampMs: v.ts })
  }))
}

async function decrypted(s: Spawned): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  return Number(text.match(/^pollwire_votes_decrypted_total\{account="default"\} (\d+)/m)?.[1] ?? 0)
}

/** Polls `probe` (a failure counts as not yet) until it returns a value. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000, every = 50): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const v = await Promise.resolve().then(probe).catch(() => undefined)
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`stack: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}
