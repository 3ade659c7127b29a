import { randomBytes } from 'node:crypto'
import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { tx } from './db.ts'
import type { Db } from './db.ts'
import type { Emitter } from './events.ts'
import { createGroupCommit } from './group-commit.ts'
import { createPollStore } from './poll-store.ts'
import type { PollRecord } from './poll-store.ts'
import type { PollStatus, PollStore, PollView, RawVote } from './poll-types.ts'
import { optionHash, payloadHash } from './vote-crypto.ts'
import { pollHistory } from './vote-history.ts'
import { createPersonResolver, norm } from './vote-identity.ts'
import type { PendingLimits } from './vote-pending.ts'
import { createStoreHealth } from './store-health.ts'
import type { StoreHealth } from './store-health.ts'
import type { LidMapping, OwnIdentity } from './vote-identity.ts'
import { createIngest } from './vote-ingest.ts'
import { noVoteMetrics, type VoteMetrics } from './vote-metrics.ts'
import type { IngestItem } from './vote-ingest.ts'
import { sameTally } from './tally.ts'
import { createVoteState } from './vote-state.ts'

export interface VoteEngineDeps {
  db: Db
  log: Logger
  emitter: Emitter
  /** own account JIDs (may carry a device suffix); empty before login */
  identity: OwnIdentity
  lidMapping: LidMapping
  /** counters for /metrics; none by default */
  metrics?: VoteMetrics
  now?: () => number
  /**
   * group commit: at most this many votes per transaction (default 5000). Under a flood a
   * batch costs one fsync and one view per touched poll; 5000 keeps that overhead small while
   * a batch still commits within a fraction of a second ...
   */
  maxBatch?: number
  /** ... gathered for this long after the first one (default 2 ms) */
  batchDelayMs?: number
  /** bound on one LID mapping lookup (default 1000 ms) */
  lookupTimeoutMs?: number
  /** whether the store takes writes, shared with the other writers of the database; own one by default */
  health?: StoreHealth
  /** caps on undecryptable votes kept for retries (see vote-pending.ts) */
  pendingLimits?: PendingLimits
  /** a vote still undecryptable after this long expires (default 30 days) */
  pendingMaxAgeMs?: number
  /** pending rows re-derived per turn of the write queue (default 100), so retries never hold back new votes */
  retryChunk?: number
}

/** Which pending votes a retry is for: those from these JIDs (a LID↔PN pair just learned). */
export interface RetryScope { jids: string[] }

export interface NewPoll {
  chatId: string
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice */
  selectableCount: number
}

export interface PollCreation extends NewPoll {
  id: string
  secret: Uint8Array
  /** ms */
  timestamp: number
}

export interface VoteStats {
  /** polls shown by all() */
  polls: number
  /** journal rows that decrypted and count (or counted) */
  decrypted: number
  duplicate: number
  rejected: number
  pending: { unknown_poll: number; no_key: number }
}

export interface VoteEngine extends PollStore {
  /** Stores a poll about to be sent (status 'sending') and returns its message id and secret. */
  preparePoll(poll: NewPoll): { id: string; secret: Uint8Array }
  /** The send went out: the poll is shown and announced ('poll:new'). False for an unknown id. */
  markSent(id: string): boolean
  /** The send was rejected: kept (secret included) but not shown. False if unknown or already sent. */
  markFailed(id: string, reason: string): boolean
  /**
   * A poll of this account created on another device (or seen again in history); true when it
   * was new. Never rejects (callers fire and forget): failures are logged and answer false.
   */
  recordPollCreation(poll: PollCreation): Promise<boolean>
  /** A known poll's creation data (any status), to answer Baileys' message retry requests. */
  pollCreation(id: string): PollCreation | undefined
  /** Journals, decrypts and counts one vote; resolves once all of that is committed. */
  ingestVote(raw: RawVote): Promise<void>
  /**
   * Retries pending votes (all of them, or only those a newly learned LID↔PN pair can affect)
   * and merges persons whose mapping has become known. Requests made while one runs are
   * folded into the next run; the work is done in small turns of the write queue.
   */
  retryPending(scope?: RetryScope): Promise<void>
  /** After a login: a full retry when the own identity differs from the last full retry's. */
  onLogin(): Promise<void>
  /** False while store writes fail (disk full, I/O errors), for GET /health. */
  storeOk(): boolean
  /** Re-derives the tally of one poll (or all) from the raw journal alone. */
  rebuild(pollId?: string): Promise<Record<string, PollView>>
  status(id: string): { status: PollStatus; reason?: string; listed: boolean } | undefined
  stats(): VoteStats
  /** Commits what is queued and waits for it; later ingestVote calls reject. */
  close(): Promise<void>
}

/**
 * The vote engine: polls and their secrets, the vote journal, the tally derived from it.
 * Writes go through one exclusive section (group commits, retries, rebuilds take turns);
 * reads are served from memory (polls) or the store (history).
 *
 * Decisions (issue #4):
 * - Listing: all()/get()/votes() show polls that went out — `sent`, `received` (created on
 *   another device), and `sending` polls found on start (a crash mid-send: they may have gone
 *   out). A poll prepared by this process is shown from markSent on; a `failed` one is kept
 *   with its reason and secret but not shown, until a vote for it proves it went out.
 *   Votes count for every poll whatever its status; events are only sent for shown polls.
 * - Journal first: a vote's raw row and what is derived from it commit in one transaction,
 *   before the promise resolves and before any event; nothing derived exists without its raw
 *   row, and no failure to decrypt keeps a vote out of the journal.
 * - Duplicates: a repeat of the same payload is journaled as a `duplicate` row (shown in the
 *   history as such, never counted), except the upsert sighting of a vote first seen at the
 *   Signal layer: that one is the same delivery and only enriches the first row.
 * - A single-choice poll's vote naming several options is rejected (`too_many_options`).
 * - Restart: the tally is recomputed from the journal's derived columns (one pass, no
 *   decryption); nothing else is persisted for it, so the vote path writes one row per vote.
 */
export function createVoteEngine(deps: VoteEngineDeps): VoteEngine {
  const now = deps.now ?? Date.now
  const log = deps.log
  const store = createPollStore(deps.db)
  const state = createVoteState(store, deps.pendingLimits)
  const resolver = createPersonResolver({ identity: deps.identity, lidMapping: deps.lidMapping, log, lookupTimeoutMs: deps.lookupTimeoutMs })
  const health = deps.health ?? createStoreHealth({ db: deps.db, log })
  const ingest = createIngest({ db: deps.db, health, store, state, resolver, identity: deps.identity, emitter: deps.emitter, log, now, metrics: deps.metrics ?? noVoteMetrics })
  const maxAgeMs = deps.pendingMaxAgeMs ?? 30 * 24 * 3600_000
  const chunk = deps.retryChunk ?? 100

  const started = performance.now()
  state.load(resolver.senderIds)
  for (const [lid, pn] of state.merged) resolver.learn(pn, lid)
  ingest.expire(state.overflow.splice(0))
  expireOld()
  log.info({ polls: state.polls.size, votes: state.dedupSize(), pending: state.pending.size(),
    ms: Math.round(performance.now() - started) }, 'vote engine loaded')

  let tail: Promise<unknown> = Promise.resolve()
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }

  const commits = createGroupCommit<IngestItem, void>({
    run: (items) => exclusive(async () => {
      await ingest.batch(items)
      return new Array<void>(items.length)
    }),
    maxBatch: deps.maxBatch,
    delayMs: deps.batchDelayMs,
  })
  let closed = false

  /** Pending votes older than the limit: given up on (kept in the journal as expired). */
  function expireOld(): void {
    if (!Number.isFinite(maxAgeMs)) return
    const old = store.pendingBefore(now() - maxAgeMs)
    const rows = old.map((seq) => state.pending.remove(seq)).filter((r) => r !== undefined)
    ingest.expire(rows)
  }

  // Retry requests fold into one plan; one runner works it off a chunk per write-queue turn,
  // so a burst of logins and mapping updates costs one pass, and votes commit in between.
  let plan: { all: boolean; jids: Set<string> } | null = null
  let runner: Promise<void> | null = null
  let lastFullIdentity: string | null = null

  function requestRetry(scope?: RetryScope): Promise<void> {
    plan ??= { all: false, jids: new Set() }
    if (!scope) plan.all = true
    else for (const j of scope.jids) { const n = norm(j); if (n) plan.jids.add(n) }
    runner ??= runPlans().finally(() => { runner = null })
    return runner
  }

  async function runPlans(): Promise<void> {
    // Let requests made in the same tick join this run.
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (plan && !closed) {
      const { all, jids } = plan
      plan = null
      if (all) lastFullIdentity = identityKey()
      await exclusive(async () => expireOld())
      const seqs = all ? state.pending.noKeySeqs() : state.pending.noKeySeqs((sender) => sender.some((j) => jids.has(j)))
      // Polls that became known while their votes were queued (they are retried on arrival).
      if (all) for (const id of state.polls.keys()) seqs.push(...state.pending.waitingFor(id))
      let resolved = 0
      for (let i = 0; i < seqs.length && !closed; i += chunk) {
        if (i) await new Promise<void>((resolve) => setImmediate(resolve))
        resolved += await exclusive(() => ingest.retry(seqs.slice(i, i + chunk)))
      }
      const merged = await exclusive(() => ingest.mergeKnown(all ? undefined : [...jids]))
      if (resolved || merged) log.info({ tried: seqs.length, resolved, merged }, 'pending votes retried')
    }
  }

  const identityKey = () => { const { pn, lid } = deps.identity(); return `${norm(pn)}|${norm(lid)}` }

  function listed(id: string) {
    const p = state.polls.get(id)
    return p?.listed ? p : undefined
  }

  function markSent(id: string): boolean {
    const p = state.polls.get(id)
    if (!p) { log.warn({ pollMsgId: id }, 'markSent for an unknown poll'); return false }
    state.hidden.delete(id)
    if (p.status !== 'sent') {
      store.setStatus(id, 'sent', undefined, now())
      p.status = 'sent'
      p.reason = undefined
    }
    if (!p.listed) {
      p.listed = true
      ingest.emit('poll:new', p)
    }
    return true
  }

  // Views are immutable and replaced on every visible change, so the same views in the same
  // order mean the same body: GET /get-all-poll-data then costs a write, not a stringify.
  let allCache: { views: PollView[]; body: Uint8Array<ArrayBuffer> } | undefined
  function allJson(): Uint8Array<ArrayBuffer> {
    const views: PollView[] = []
    for (const p of state.polls.values()) if (p.listed) views.push(state.view(p))
    const c = allCache
    if (c && c.views.length === views.length && c.views.every((v, i) => v === views[i])) return c.body
    const body = Buffer.from(JSON.stringify({ success: true, polls: all() }))
    allCache = { views, body }
    return body
  }

  function all(): Record<string, PollView> {
    const out: Record<string, PollView> = {}
    for (const p of state.polls.values()) if (p.listed) out[p.id] = state.view(p)
    return out
  }

  return {
    all,
    allJson,
    get(id) {
      const p = listed(id)
      return p && state.view(p)
    },
    votes(id) {
      const p = listed(id)
      return p && pollHistory(state, store, deps.identity, p)
    },

    preparePoll(poll) {
      if (closed) throw new Error('vote engine is closed')
      checkPoll(poll)
      let id = generateMessageIDV2(deps.identity().pn)
      while (state.polls.has(id)) id = generateMessageIDV2(deps.identity().pn)
      const secret = new Uint8Array(randomBytes(32))
      const rec = record({ ...poll, id, secret, timestamp: now() }, 'sending')
      // Written before the send: a vote can only be decrypted with this secret, and a crash
      // between sending and storing would lose every vote for the poll.
      tx(deps.db, () => store.insertPoll(rec, now()))
      state.hidden.add(id)
      state.polls.set(id, state.pollFrom(rec, false))
      return { id, secret }
    },

    markSent,

    markFailed(id, reason) {
      const p = state.polls.get(id)
      if (!p) return false
      if (p.status === 'sent' || p.status === 'received') {
        log.warn({ pollMsgId: id, reason }, 'markFailed for a poll that went out: ignored')
        return false
      }
      store.setStatus(id, 'failed', reason, now())
      state.hidden.delete(id)
      p.status = 'failed'
      p.reason = reason
      p.listed = false
      return true
    },

    recordPollCreation(poll) {
      if (closed) return Promise.resolve(false)
      return exclusive(async () => {
        if (state.polls.has(poll.id)) {
          // Seen again (history sync): a poll we thought failed or unsent did go out.
          if (!state.polls.get(poll.id)!.listed) markSent(poll.id)
          return false
        }
        checkPoll(poll)
        const rec = record(poll, 'received')
        tx(deps.db, () => store.insertPoll(rec, now()))
        const p = state.pollFrom(rec, true)
        state.polls.set(poll.id, p)
        const waiting = state.pending.waitingFor(poll.id)
        if (waiting.length) {
          // Its votes came first: their rows were not indexed by poll until now.
          state.rowsByPoll.set(poll.id, store.seqsOfPoll(poll.id))
          await ingest.retry(waiting, new Set([poll.id]))
        }
        ingest.emit('poll:new', p)
        log.debug({ pollMsgId: poll.id, waiting: waiting.length }, 'poll from another device recorded')
        return true
      })
    },

    pollCreation(id) {
      const p = state.polls.get(id)
      return p && { id: p.id, chatId: p.chatId, question: p.question, options: [...p.options],
        selectableCount: p.selectableCount, secret: p.secret, timestamp: p.timestamp }
    },

    ingestVote(raw) {
      if (closed) return Promise.reject(new Error('vote engine is closed'))
      const clean = cleanVote(raw, now)
      return commits.push({ raw: clean, hash: payloadHash(clean.pollId, clean.encIv, clean.encPayload) })
    },

    retryPending: requestRetry,

    onLogin() {
      // Only the own identity is new at a login; mappings learned meanwhile come as their own retries.
      return lastFullIdentity === identityKey() ? exclusive(() => ingest.mergeKnown()).then(() => undefined) : requestRetry()
    },

    storeOk: () => health.ok(),

    async rebuild(pollId) {
      await commits.drain()
      const before = new Map([...state.polls.values()].filter((p) => p.listed).map((p) => [p.id, state.view(p)]))
      await exclusive(() => ingest.rebuild(pollId))
      for (const p of state.polls.values()) {
        const was = before.get(p.id)
        if (p.listed && was && !sameTally(was, state.view(p))) ingest.emit('poll:update', p)
      }
      if (pollId === undefined) return all()
      const p = state.polls.get(pollId)
      return p ? { [pollId]: state.view(p) } : {}
    },

    status(id) {
      const p = state.polls.get(id)
      return p && { status: p.status, ...(p.reason ? { reason: p.reason } : {}), listed: p.listed }
    },

    stats() {
      let polls = 0
      for (const p of state.polls.values()) if (p.listed) polls++
      return {
        polls,
        decrypted: state.counts.ok,
        duplicate: state.counts.dup,
        rejected: state.counts.rejected,
        pending: state.pending.counts(),
      }
    },

    async close() {
      closed = true
      await commits.drain()
      await runner
      await tail
    },
  }
}

function record(p: PollCreation, status: PollStatus): PollRecord {
  return {
    id: p.id,
    chatId: p.chatId,
    question: p.question,
    options: [...p.options],
    hashes: p.options.map(optionHash),
    selectableCount: p.selectableCount,
    secret: p.secret,
    timestamp: p.timestamp,
    status,
  }
}

function checkPoll(p: NewPoll): void {
  const ok = typeof p.chatId === 'string' && typeof p.question === 'string' && Array.isArray(p.options)
    && p.options.length > 0 && p.options.every((o) => typeof o === 'string')
    && new Set(p.options).size === p.options.length
    && Number.isInteger(p.selectableCount) && p.selectableCount >= 0
  if (!ok) throw new TypeError('a poll needs a chat, a question, unique option texts and a selectableCount ≥ 0')
}

/** A vote as the journal stores it, whatever the caller passed: bad input is journaled and rejected, never thrown. */
function cleanVote(raw: RawVote, now: () => number): RawVote {
  if (wellFormed(raw)) return raw
  const r = (raw ?? {}) as Partial<RawVote>
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
  const num = (v: unknown, fallback: number) => (Number.isFinite(Number(v)) ? Math.trunc(Number(v)) : fallback)
  const bytes = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array(0))
  return {
    msgId: str(r.msgId),
    pollId: str(r.pollId) ?? '',
    chatId: str(r.chatId) ?? '',
    remoteJidAlt: str(r.remoteJidAlt),
    participant: str(r.participant),
    participantAlt: str(r.participantAlt),
    fromMe: r.fromMe === true,
    senderTimestampMs: num(r.senderTimestampMs, 0),
    encPayload: bytes(r.encPayload),
    encIv: bytes(r.encIv),
    source: r.source === 'append' || r.source === 'signal' ? r.source : 'notify',
    receivedAt: num(r.receivedAt, now()),
  }
}

const optStr = (v: unknown) => v === undefined || (typeof v === 'string' && v !== '')

// The common case, checked without copying: what Baileys hands over is already like this.
function wellFormed(r: RawVote): boolean {
  return typeof r === 'object' && r !== null && typeof r.pollId === 'string' && r.pollId !== ''
    && typeof r.chatId === 'string' && r.chatId !== '' && typeof r.fromMe === 'boolean'
    && Number.isSafeInteger(r.senderTimestampMs) && Number.isSafeInteger(r.receivedAt)
    && r.encPayload instanceof Uint8Array && r.encIv instanceof Uint8Array
    && (r.source === 'notify' || r.source === 'append' || r.source === 'signal')
    && optStr(r.msgId) && optStr(r.remoteJidAlt) && optStr(r.participant) && optStr(r.participantAlt)
}
