import { startFakeWhatsApp, type FakeContact } from '../test/e2e/fake-wa/index.ts'
import { profiled } from './profile.ts'
import { cpuMsSince, type Row } from './table.ts'
import { profileArgs, spawnServer, type Spawned } from './server.ts'
import { OPTIONS, removeDir, rng, tempDir } from './votes.ts'

const CONTACTS = Number(process.env.BENCH_STACK_CONTACTS ?? 100)
const VOTES_EACH = Number(process.env.BENCH_STACK_VOTES_EACH ?? 10)
const GROUP = '120363000000000099@g.us'

/**
 * 5. The whole stack: group votes from the fake WhatsApp (in this process) to the real server
 * (a child process: real Baileys, Signal decrypt, the engine). The fake's cost is taken out
 * and measured alone: its contacts first encrypt every vote and build its stanza while
 * fake.deliver only holds them (timed: the baseline); then the held stanzas go out live, in
 * order, in one burst, and the stack is timed from there until /metrics counts every vote
 * decrypted (then /get-all-poll-data must show the expected tally).
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
      // BENCH_STACK_PRELOAD: a module to load into the server before anything imports Baileys
      // (e.g. bench/experiments/native-xeddsa-verify.mjs); the fake's own preload imports it.
      imports: [...(process.env.BENCH_STACK_PRELOAD ? [process.env.BENCH_STACK_PRELOAD] : []), './test/e2e/fake-wa/preload.ts'],
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
    const sent = await (await fetch(`${s.url}/send-poll`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: GROUP, question: 'Bench?', options: OPTIONS, allowMultipleAnswers: true }),
    })).json() as { pollMsgId: string }
    const pollId = sent.pollMsgId
    await fake.waitForPoll(pollId)
    await until('every contact has the poll', () => contacts.every((c) => c.receivedPoll(pollId)) || undefined)

    const total = CONTACTS * VOTES_EACH
    const before = await decrypted(s)
    const plan = planVotes(contacts)
    const want = tally(plan)

    // The fake alone: every vote Signal-encrypted and built into its stanza, held instead of sent.
    const deliver = fake.deliver.bind(fake)
    const held: Array<Parameters<typeof deliver>> = []
    fake.deliver = (...args) => { held.push(args) }
    const tf = performance.now()
    await profiled('stack-fake', () => sendAll(plan, pollId))
    const fakeMs = performance.now() - tf
    fake.deliver = deliver
    const fakeRate = total / (fakeMs / 1000)
    log(`  fake alone: ${total} votes encrypted and built in ${Math.round(fakeMs)} ms = ${Math.round(fakeRate)} votes/s (${held.length} stanzas held)`)

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
    const results = (await get('/get-all-poll-data')).polls[pollId].results as Record<string, number>
    if (OPTIONS.some((o, i) => results[o] !== want[i])) throw new Error(`stack: results ${JSON.stringify(results)} ≠ expected ${want}`)
    const rate = total / (ms / 1000)
    log(`  stack: ${total} votes from ${CONTACTS} contacts in ${Math.round(ms)} ms (handed to the socket in ${Math.round(sentMs)} ms) = ${Math.round(rate)} votes/s; server CPU ${Math.round(serverCpuMs)} ms (${(serverCpuMs / total).toFixed(2)} ms/vote), fake CPU ${Math.round(benchCpuMs)} ms`)
    return {
      rows: [
        {
          section: '5. whole stack', measure: `votes/s through real Baileys (${total.toLocaleString('en')} group votes, ${CONTACTS} contacts, Signal decrypt + engine)`,
          value: rate, unit: 'votes/s', baseline: 'fake WhatsApp alone: encrypt + build the same votes, no client', baselineValue: fakeRate,
          ratio: rate / fakeRate, target: '≥ 1,000/s', pass: rate >= 1000,
          note: `server CPU ${(serverCpuMs / total).toFixed(2)} ms/vote`,
        },
      ],
    }
  } finally {
    await server?.stop()
    await fake.close()
    removeDir(dir)
  }
}

interface Planned { contact: FakeContact; options: string[]; ts: number }

/** Each contact votes VOTES_EACH times, newer each time; the last vote of each is what counts. */
function planVotes(contacts: FakeContact[]): Planned[][] {
  const rand = rng(11)
  const t = Date.now()
  return contacts.map((contact) => Array.from({ length: VOTES_EACH }, (_, k) => ({
    contact, ts: t + k,
    options: OPTIONS.filter(() => rand() < 0.4),
  })))
}

function tally(plan: Planned[][]): number[] {
  const counts = OPTIONS.map(() => 0)
  for (const votes of plan) for (const o of votes[votes.length - 1].options) counts[OPTIONS.indexOf(o)]++
  return counts
}

/** Every contact sends its votes in order; contacts send concurrently. */
async function sendAll(plan: Planned[][], pollId: string): Promise<void> {
  await Promise.all(plan.map(async (votes) => {
    for (const v of votes) await v.contact.vote({ pollId, options: v.options, senderTimestampMs: v.ts })
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
