/**
 * Shared pieces of the kill -9 suites: a seeded random source, the ledger of votes the fake
 * WhatsApp sent, what the fake knows the client acknowledged, and the tally a correct server
 * must show, computed independently of the server.
 */
import { createHash } from 'node:crypto'
import type { FakeContact, FakeWhatsApp } from '../fake-wa/index.ts'
import { waitFor, type ServerProcess } from '../harness/server-process.ts'

export const sha = (t: string) => createHash('sha256').update(t).digest('hex')
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** How many kills: CRASH_KILLS (default 5, the CI size; `npm run test:crash` runs 20). */
export const KILLS = boundedInt(process.env.CRASH_KILLS, 5, 1, 200)
/** CRASH_SEED reproduces a run; without it each run picks one and prints it. */
export const SEED = boundedInt(process.env.CRASH_SEED, Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31)

function boundedInt(text: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(text)
  return text !== undefined && text !== '' && Number.isInteger(n) && n >= min && n <= max ? n : fallback
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seeded(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
    chance: (p: number) => next() < p,
  }
}
export type Rng = ReturnType<typeof seeded>

export interface PollInfo { id: string; options: string[]; single: boolean; secret: Uint8Array }

/** One vote the fake sent: what the voter chose, and when they say they chose it. */
export interface SentVote { id: string; voter: FakeContact; pollId: string; options: string[]; ts: number }

/** Ids of messages the client sent a delivery receipt for (retry receipts ask for a resend: not an ack). */
export function deliveryReceipts(fake: FakeWhatsApp): Set<string> {
  return new Set(fake.receipts.filter((r) => r.type !== 'retry').map((r) => r.id))
}

export interface JournalEntry { voter: string; selected: string[]; senderTimestamp: number; status: string; reason?: string }

/** GET /polls/:id/votes for each poll, indexed by `pollId|senderTimestamp` (unique per sent vote here). */
export async function journal(server: ServerProcess, pollIds: string[]): Promise<Map<string, JournalEntry[]>> {
  const out = new Map<string, JournalEntry[]>()
  for (const id of pollIds) {
    const res = await server.get(`/polls/${id}/votes`)
    if (res.status !== 200) throw new Error(`GET /polls/${id}/votes answered ${res.status}: ${JSON.stringify(res.body)}`)
    for (const v of res.body.votes as JournalEntry[]) {
      const key = `${id}|${v.senderTimestamp}`
      const list = out.get(key) ?? []
      list.push(v)
      out.set(key, list)
    }
  }
  return out
}

const COUNTED = new Set(['counted', 'superseded', 'late', 'duplicate'])

/** Votes of `votes` with no journal row that decrypted (a pending or rejected row is not a kept vote). */
export function missingFromJournal(votes: Iterable<SentVote>, rows: Map<string, JournalEntry[]>): SentVote[] {
  const missing: SentVote[] = []
  for (const v of votes) {
    const found = rows.get(`${v.pollId}|${v.ts}`) ?? []
    const ok = found.some((e) => COUNTED.has(e.status) && (e.voter === v.voter.pnJid || e.voter === v.voter.lidJid))
    if (!ok) missing.push(v)
  }
  return missing
}

/** The tally from the votes alone: each voter's newest vote (by sender timestamp) counts; an empty one retracts. */
export function expectedTally(poll: PollInfo, votes: Iterable<SentVote>) {
  const newest = new Map<string, SentVote>()
  for (const v of votes) {
    if (v.pollId !== poll.id) continue
    const prev = newest.get(v.voter.pnJid)
    if (!prev || v.ts > prev.ts) newest.set(v.voter.pnJid, v)
  }
  const results: Record<string, number> = Object.fromEntries(poll.options.map((o) => [o, 0]))
  const voters: Record<string, string[]> = {}
  for (const [jid, v] of newest) {
    if (!v.options.length) continue
    for (const o of v.options) results[o]!++
    voters[jid] = poll.options.filter((o) => v.options.includes(o)).map(sha)
  }
  return { results, voters }
}

/** Compares the server's tally of each poll with the independent one; returns the differences. */
export async function tallyDifferences(server: ServerProcess, polls: PollInfo[], votes: SentVote[]): Promise<string[]> {
  const { body } = await server.get('/get-all-poll-data')
  const problems: string[] = []
  for (const poll of polls) {
    const want = expectedTally(poll, votes)
    const got = body.polls[poll.id]
    if (!got) { problems.push(`poll ${poll.id} missing from /get-all-poll-data`); continue }
    if (JSON.stringify(got.results) !== JSON.stringify(want.results)) {
      problems.push(`poll ${poll.id} results ${JSON.stringify(got.results)} != expected ${JSON.stringify(want.results)}`)
    }
    const norm = (v: Record<string, string[]>) => JSON.stringify(Object.keys(v).sort().map((k) => [k, v[k]]))
    if (norm(got.voters) !== norm(want.voters)) {
      problems.push(`poll ${poll.id} voters differ: got ${Object.keys(got.voters).length}, expected ${Object.keys(want.voters).length}`)
    }
  }
  return problems
}

/** Waits for GET /status to say ready, failing at once if the server asks for a QR (it must not after a restart). */
export async function readyWithoutQr(server: ServerProcess, ms = 30_000): Promise<void> {
  await waitFor('ready without a new QR', async () => {
    const { body } = await server.get('/status').catch(() => ({ body: null as any }))
    if (body?.status === 'qr_pending' || body?.status === 'logged_out') throw new Error(`asked to pair again after a restart: ${body.status}`)
    return body?.status === 'ready'
  }, ms)
}

export function describeVote(v: SentVote): string {
  return `${v.id} ${v.voter.name} → ${v.pollId} ${JSON.stringify(v.options)} ts=${v.ts}`
}
