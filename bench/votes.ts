import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { openDb, type Db } from '../store/sqlite/db.ts'
import { createEmitter, type Emitter } from '../contract/events.ts'
import type { RawVote } from '../store/ports.ts'
import { createStoreHealth } from '../store/sqlite/health.ts'
import { createSqliteJournal } from '../store/sqlite/votes.ts'
import { migrate } from '../store/sqlite/schema.ts'
import type { Outbox } from '../store/outbox-port.ts'
import type { WebhookEventType } from '../contract/webhooks.ts'
import { createIdentity } from '../core/identity.ts'
import { encryptPollVote, optionHashBytes } from '../core/votes/crypto.ts'
import { createVoteEngine, type VoteEngine } from '../core/votes/engine.ts'

/** The account the engine runs as; votes are signed with its LID, as lid-addressed groups do. */
export const OWN = { pn: '15550000001:7@s.whatsapp.net', lid: '900000000000001:7@lid' }
export const CREATOR = '900000000000001@lid'
export const OPTIONS = ['Red', 'Blue', 'Green', 'Yellow']
const OPTION_HASHES = OPTIONS.map(optionHashBytes)

export interface BenchPoll { id: string; chatId: string; secret: Uint8Array; selectableCount: number }

export interface BenchVote {
  raw: RawVote
  /** the voter JID the vote is signed with, and the poll's secret: the right pair for the floor */
  voterJid: string
  secret: Uint8Array
  kind: 'first' | 'replace' | 'retract' | 'dup'
  /** voter index within its poll */
  voter: number
  /** selected option indices */
  sel: number[]
}

export const voterLid = (i: number) => `8${String(i).padStart(10, '0')}@lid`
export const voterPn = (i: number) => `1666${String(i).padStart(7, '0')}@s.whatsapp.net`

/** mulberry32: the same dataset every run. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

export const silent = pino({ level: 'silent' })

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pollwire-bench-${prefix}-`))
}
export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

export interface BenchEngine { db: Db; engine: VoteEngine; emitter: Emitter; dir: string }

/** The engine as runtime/app.ts wires it (no Baileys: nobody to ask for LID mappings). */
export async function openEngine(dir: string, makeOutbox?: (db: Db) => Outbox): Promise<BenchEngine & { outbox?: Outbox }> {
  const db = openDb(dir)
  const emitter = createEmitter()
  const identity = createIdentity({ lidMapping: { getLIDForPN: async () => null, getPNForLID: async () => null }, log: silent })
  identity.setOwn({ id: OWN.pn, lid: OWN.lid, name: 'Owner' })
  migrate(db)
  const outbox = makeOutbox?.(db)
  const journal = createSqliteJournal(db, 'default', createStoreHealth({ db, log: silent }), undefined, outbox)
  const webhooks = outbox && { account: 'default', wanted: (type: WebhookEventType) => outbox.wanted(type, 'default') }
  const engine = await createVoteEngine({ journal, identity, log: silent, emitter, webhooks })
  return { db, engine, emitter, dir, outbox }
}

/**
 * Creates `count` sent polls. Setup only, so it runs with synchronous=OFF (1,000 polls would
 * otherwise cost 1,000 fsyncs); FULL is restored, and checked, before anything is timed.
 */
export async function createPolls(b: BenchEngine, count: number): Promise<BenchPoll[]> {
  b.db.pragma('synchronous = OFF')
  const polls: BenchPoll[] = []
  for (let i = 0; i < count; i++) {
    const chatId = `1203630${String(i).padStart(11, '0')}@g.us`
    const selectableCount = i % 2 ? 0 : 1
    const { id, secret } = await b.engine.preparePoll({ chatId, question: `Question ${i}?`, options: OPTIONS, selectableCount })
    await b.engine.markSent(id)
    polls.push({ id, chatId, secret, selectableCount })
  }
  b.db.pragma('synchronous = FULL')
  if (synchronous(b.db) !== 2) throw new Error('synchronous is not FULL')
  return polls
}

/** PRAGMA synchronous as a number (2 = FULL); libsql's `simple` option still returns a row. */
export function synchronous(db: Db): number {
  return (db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous
}

let clock = Date.UTC(2026, 0, 1)

export function makeVote(poll: BenchPoll, voter: number, sel: number[], kind: BenchVote['kind']): BenchVote {
  const voterJid = voterLid(voter)
  const { encPayload, encIv } = encryptPollVote({
    pollMsgId: poll.id, pollCreatorJid: CREATOR, voterJid, secret: poll.secret,
    selectedOptions: sel.map((i) => OPTION_HASHES[i]),
  })
  clock += 1
  return {
    voterJid, secret: poll.secret, kind, voter, sel,
    raw: {
      msgId: `BENCH${clock.toString(16).toUpperCase()}`,
      pollId: poll.id,
      chatId: poll.chatId,
      participant: voterJid,
      participantAlt: voterPn(voter),
      fromMe: false,
      senderTimestampMs: clock,
      encPayload, encIv,
      source: 'notify',
      receivedAt: clock,
    },
  }
}

function pick(poll: BenchPoll, rand: () => number): number[] {
  const a = Math.floor(rand() * OPTIONS.length)
  if (poll.selectableCount === 1 || rand() < 0.5) return [a]
  const b = (a + 1 + Math.floor(rand() * (OPTIONS.length - 1))) % OPTIONS.length
  return [a, b].sort((x, y) => x - y)
}

/**
 * Per poll: every voter votes once; then `extra` of them change their vote, retract it, or
 * have their first vote delivered again (byte-identical). First votes come shuffled across
 * polls, the rest after them, shuffled too, so batches touch many polls as in real traffic.
 */
export function makeVotes(polls: BenchPoll[], voters: number, extra = { replace: 0, retract: 0, dup: 0 }, seed = 1): BenchVote[] {
  const rand = rng(seed)
  const first: BenchVote[] = []
  const later: BenchVote[] = []
  for (const poll of polls) {
    const mine: BenchVote[] = []
    for (let v = 0; v < voters; v++) mine.push(makeVote(poll, v, pick(poll, rand), 'first'))
    first.push(...mine)
    const who = shuffle([...Array(voters).keys()], rand)
    let k = 0
    for (let i = 0; i < extra.replace; i++) later.push(makeVote(poll, who[k++], pick(poll, rand), 'replace'))
    for (let i = 0; i < extra.retract; i++) later.push(makeVote(poll, who[k++], [], 'retract'))
    for (let i = 0; i < extra.dup; i++) {
      const orig = mine[who[k++]]
      later.push({ ...orig, kind: 'dup', raw: { ...orig.raw, msgId: `${orig.raw.msgId}D` } })
    }
  }
  return [...shuffle(first, rand), ...shuffle(later, rand)]
}

/** What the engine must end up showing for each poll, from the votes alone. */
export function expectedResults(votes: BenchVote[]): Map<string, number[]> {
  const current = new Map<string, Map<number, BenchVote>>()
  for (const v of votes) {
    if (v.kind === 'dup') continue
    let m = current.get(v.raw.pollId)
    if (!m) current.set(v.raw.pollId, (m = new Map()))
    const prev = m.get(v.voter)
    if (!prev || prev.raw.senderTimestampMs < v.raw.senderTimestampMs) m.set(v.voter, v)
  }
  const out = new Map<string, number[]>()
  for (const [pollId, m] of current) {
    const counts = OPTIONS.map(() => 0)
    for (const v of m.values()) for (const i of v.sel) counts[i]++
    out.set(pollId, counts)
  }
  return out
}
