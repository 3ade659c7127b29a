import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from '../test/e2e/fake-wa/index.ts'
import { waitFor } from '../test/e2e/harness/server-process.ts'
import { pgCluster } from '../test/store/pg-harness.ts'
import { now, schedule, seenAll, startClient, stats, type Gui } from './latency.ts'
import { freshDatabase } from './postgres.ts'
import { spawnServer, type Spawned } from './server.ts'
import type { Row } from './table.ts'
import { removeDir, tempDir } from './votes.ts'

/** votes/s, spread evenly over the polls: each poll gets a vote every POLLS / RATE s */
const RATE = Number(process.env.BENCH_CLUSTER_RATE ?? 20)
/** one 1:1 chat (one contact) per poll */
const POLLS = Number(process.env.BENCH_CLUSTER_POLLS ?? 50)
/** each contact votes this many times, a new selection each time */
const ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 14)
/** the first rounds warm both processes up and are not counted */
const WARM_ROUNDS = 2
/** runtime/broadcaster.ts: at most one poll_update_to_gui per poll per this many ms */
/** 12 options (WhatsApp's most), so each of a contact's votes can select a set of its own */
const OPTIONS = Array.from({ length: 12 }, (_, i) => `O${String(i + 1).padStart(2, '0')}`)
/** round k selects the options of the bits of k + 1: never empty, never the same twice (k < 4095) */
const selection = (k: number) => OPTIONS.filter((_, bit) => ((k + 1) >> bit) & 1)
/** what the client (latency-client.mjs, bySelection) notes when a poll first shows round k's selection */
const keyOf = (pollId: string, k: number) => `${pollId}|${selection(k).sort().join(',')}`

interface Planned { contact: FakeContact; pollId: string; round: number }

/**
 * 8. Vote → `poll_update_to_gui` across processes: two real server processes (compiled, as
 * `npm start` runs them) on one PostgreSQL database. A owns the account (its advisory lock) and
 * is linked to the fake WhatsApp; B follows. One Socket.IO client on each (on worker threads of
 * this process, so both time on the same monotonic clock as the sender). The fake's contacts vote
 * in their 1:1 chats at a fixed rate, round-robin over the polls; each vote is timed from the
 * moment its stanza goes to A's socket until each client first sees a poll_update_to_gui showing
 * it. The client on A gets it from A's own broadcaster, the one on B through
 * @socket.io/postgres-adapter (NOTIFY). Then the same votes to one server on SQLite (no adapter),
 * with its own fake WhatsApp: what A's figure costs without PostgreSQL. The fake's Signal
 * encryption is taken out: every vote is encrypted and held first (as in bench/stack.ts), then
 * the held stanzas go out on schedule.
 */
export async function benchCluster(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const pg = pgCluster({ durable: true })
  let drop: (() => Promise<void>) | undefined
  try {
    const db = await freshDatabase(await pg.url(), 'pw_bench_cluster')
    drop = db.drop
    const cluster = await measure(log, { DATABASE_URL: db.url }, true)
    const lite = await measure(log, {}, false)
    const [sA, sB, sL] = [stats(cluster.ms[0]!), stats(cluster.ms[1]!), stats(lite.ms[0]!)]
    const hop = stats(cluster.ms[0]!.map((ms, i) => cluster.ms[1]![i]! - ms))
    const show = (s: { p50: number; p99: number; max: number }) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(1)} ms`
    log(`  PostgreSQL, client on A (owner, same process): ${show(sA)}; ${cluster.folded[0]} votes only seen folded into a later one`)
    log(`  PostgreSQL, client on B (follower, across processes): ${show(sB)}; ${cluster.folded[1]} folded`)
    log(`  B − A per vote: p50 ${hop.p50.toFixed(2)} ms, p99 ${hop.p99.toFixed(2)} ms`)
    log(`  SQLite, one process: ${show(sL)}; ${lite.folded[0]} folded`)

    const votes = `${Math.round(cluster.rate)} 1:1 votes/s over ${POLLS} polls, ${cluster.ms[0]!.length.toLocaleString('en')} votes`
    const across = `vote → poll_update_to_gui across processes (two servers on one PostgreSQL database, ${votes}), client on the follower B`
    const owner = `vote → poll_update_to_gui on PostgreSQL, client on the owner A (same run as above)`
    const base = 'client on the owner A, same votes'
    const sqlite = `one server on SQLite, same plan (${Math.round(lite.rate)} votes/s)`
    const fold = `a poll gets a vote every ${Math.round((POLLS / RATE) * 1000)} ms; votes seen only folded into a later update (a client's send still pending): ${cluster.folded[0]} on A, ${cluster.folded[1]} on B`
    const row = (measure: string, value: number, baseline: string, baselineValue: number, note: string): Row =>
      ({ section: '8. postgres', measure, value, unit: 'ms', baseline, baselineValue, ratio: value / baselineValue, target: '—', pass: null, note })
    return {
      rows: [
        row(`${across}: p50`, sB.p50, `${base}: p50`, sA.p50, `B − A per vote p50 ${hop.p50.toFixed(2)} ms; ${fold}`),
        row(`${across}: p99`, sB.p99, `${base}: p99`, sA.p99, `max ${sB.max.toFixed(1)} ms (A ${sA.max.toFixed(1)} ms); B − A p99 ${hop.p99.toFixed(2)} ms`),
        row(`${owner}: p50`, sA.p50, `${sqlite}: p50`, sL.p50, `A's CPU ${cluster.cpuMsPerVote[0]!.toFixed(2)} ms/vote, B's ${cluster.cpuMsPerVote[1]!.toFixed(2)}; SQLite's ${lite.cpuMsPerVote[0]!.toFixed(2)}`),
        row(`${owner}: p99`, sA.p99, `${sqlite}: p99`, sL.p99, `max ${sA.max.toFixed(1)} ms (SQLite ${sL.max.toFixed(1)} ms)`),
      ],
    }
  } finally {
    await drop?.().catch(() => undefined)
    await pg.stop()
  }
}

interface Measured {
  /** per counted vote, ms from send to the first update showing it: at A (or the one server), at B */
  ms: number[][]
  folded: number[]
  rate: number
  cpuMsPerVote: number[]
}

/**
 * The plan through a server linked to a new fake WhatsApp (`env`: its store), and with
 * `follower` a second server on the same database; one Socket.IO client on each.
 */
async function measure(log: (s: string) => void, env: Record<string, string>, follower: boolean): Promise<Measured> {
  const fake = await startFakeWhatsApp({ defaultTimeoutMs: 30_000 })
  const dirs: string[] = []
  const servers: Spawned[] = []
  const guis: Gui[] = []
  try {
    const contacts = Array.from({ length: POLLS }, (_, i) =>
      fake.addContact({ pn: `1555400${String(i).padStart(4, '0')}`, lid: `7100000${String(i).padStart(4, '0')}`, name: `Voter ${i}` }))
    const serve = async () => {
      const dir = tempDir('cluster')
      dirs.push(dir)
      const s = await spawnServer(dir, { imports: ['./test/e2e/fake-wa/preload.ts'], env: { ...env, WA_WS_URL: fake.url } })
      servers.push(s)
      return s
    }
    const a = await serve()
    await link(a, fake)
    const polls: string[] = []
    for (const c of contacts) polls.push(await sendPoll(a, fake, c))
    if (follower) {
      const b = await serve()
      await waitFor('B follows A: ready, with every poll', async () => {
        const [st, all] = await Promise.all([json(b, '/status'), json(b, '/get-all-poll-data')]).catch(() => [])
        return st?.status === 'ready' && Object.keys(all?.polls ?? {}).length === POLLS
      }, 30_000)
    }
    for (const s of servers) guis.push(startClient(s.url, { bySelection: true }))
    await Promise.all(guis.map((g) => g.ready))

    // Round-robin: every poll once per round, so a poll's votes are POLLS / RATE s apart.
    const plan: Planned[] = []
    for (let round = 0; round < ROUNDS; round++) contacts.forEach((contact, i) => plan.push({ contact, pollId: polls[i]!, round }))
    const deliver = fake.deliver.bind(fake)
    const held: Array<Parameters<typeof deliver>> = []
    fake.deliver = (...args) => { held.push(args) }
    const t0 = Date.now()
    try {
      for (const v of plan) await v.contact.vote({ pollId: v.pollId, options: selection(v.round), senderTimestampMs: t0 + v.round })
    } finally {
      fake.deliver = deliver
    }
    if (held.length !== plan.length) throw new Error(`cluster: ${held.length} stanzas held for ${plan.length} votes`)

    const cpu = servers.map((s) => s.cpuMs())
    const at: number[] = new Array(plan.length)
    const sentMs = await schedule(plan.length, RATE, (i) => { at[i] = now(); deliver(...held[i]!) })
    const last = polls.map((p) => keyOf(p, ROUNDS - 1))
    const seen: Array<Map<string, number>> = []
    for (const g of guis) seen.push(await seenAll(g, last))
    const cpuMsPerVote = servers.map((s, i) => (s.cpuMs() - cpu[i]!) / plan.length)
    await checkTallies(a, polls)
    const rate = plan.length / (sentMs / 1000)
    log(`  ${follower ? 'PostgreSQL, two processes' : 'SQLite, one process'}: ${plan.length} votes at ${Math.round(rate)} votes/s over ${POLLS} 1:1 polls; server CPU ${cpuMsPerVote.map((c) => `${c.toFixed(2)} ms/vote`).join(', ')}`)
    const counted = seen.map((m) => latencies(plan, at, m))
    return { ms: counted.map((c) => c.ms), folded: counted.map((c) => c.folded), rate, cpuMsPerVote }
  } finally {
    for (const g of guis) await g.close()
    for (const s of servers.reverse()) await s.stop()
    await fake.close()
    for (const d of dirs) removeDir(d)
  }
}

/**
 * Per counted vote: from its send to the first update showing its selection or a later one of
 * the same voter (a client whose send is pending gets only the newest state when it drains). `folded`: votes whose own
 * selection was never shown.
 */
function latencies(plan: Planned[], at: number[], seen: Map<string, number>): { ms: number[]; folded: number } {
  const ms: number[] = new Array(plan.length)
  const firstLater = new Map<string, number>()
  let folded = 0
  for (let i = plan.length - 1; i >= 0; i--) {
    const { pollId, round } = plan[i]!
    const own = seen.get(keyOf(pollId, round))
    if (own === undefined && round >= WARM_ROUNDS) folded++
    const t = Math.min(own ?? Infinity, firstLater.get(pollId) ?? Infinity)
    firstLater.set(pollId, t)
    ms[i] = t - at[i]!
  }
  return { ms: ms.filter((_, i) => plan[i]!.round >= WARM_ROUNDS), folded }
}

async function json(s: Spawned, path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(s.url + path, init)
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

/** Links A as a user would: the QR from /status, scanned by the fake phone. */
async function link(s: Spawned, fake: FakeWhatsApp): Promise<void> {
  const status = () => json(s, '/status').catch(() => undefined)
  const qr = await waitFor('a QR on A', async () => { const st = await status(); return st?.status === 'qr_pending' ? st.qrCode as string | undefined : undefined }, 30_000)
  await fake.phone.scanQr(qr)
  await waitFor('A ready', async () => (await status())?.status === 'ready', 30_000)
  await fake.waitForInitialSync()
}

/** A 12-option poll to the contact's 1:1 chat, sent through A; resolves once the contact has it. */
async function sendPoll(s: Spawned, fake: FakeWhatsApp, c: FakeContact): Promise<string> {
  const { pollMsgId } = await json(s, '/send-poll', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chatId: c.pnJid, question: 'Cluster?', options: OPTIONS, allowMultipleAnswers: true }),
  }) as { pollMsgId: string }
  await fake.waitForPoll(pollMsgId)
  await waitFor('the contact has the poll', () => !!c.receivedPoll(pollMsgId), 30_000)
  return pollMsgId
}

/** Every poll ends with its voter's last selection. */
async function checkTallies(s: Spawned, polls: string[]): Promise<void> {
  const all = (await json(s, '/get-all-poll-data')).polls as Record<string, { results: Record<string, number> }>
  const want = selection(ROUNDS - 1).join(',')
  for (const id of polls) {
    const got = OPTIONS.filter((o) => all[id]?.results[o]).join(',')
    if (got !== want) throw new Error(`cluster: poll ${id} shows ${got}, expected ${want}`)
  }
}
