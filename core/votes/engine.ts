import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { AccountError } from '../../contract/account.ts'
import type { Emitter } from '../../contract/events.ts'
import type { PollReader, PollView } from '../../contract/polls.ts'
import type { AlongsideWrites, JournalCommit, PollRecord, PollStatus, RawVote, RowDerived, StoredVote, VoteJournal } from '../../store/ports.ts'
import { creatorCandidates, isLid, norm, sameSender } from '../identity.ts'
import type { Identity, Person } from '../identity.ts'
import { optionHash, payloadHash } from './crypto.ts'
import { generateMessageIDV2 } from './message-id.ts'
import { deriveVote, hintsOf } from './decrypt.ts'
import type { Derived } from './decrypt.ts'
import { createGroupCommit } from './group-commit.ts'
import { pollHistory, storedRows } from './history.ts'
import { noVoteMetrics, type VoteMetrics } from './metrics.ts'
import type { PendingLimits, PendingRow } from './pending.ts'
import type { VoteSink } from './sink.ts'
import { createVoteState, shown } from './state.ts'
import type { BallotWatcher, PollState, SignalSighting } from './state.ts'
import { pollView, sameTally, tallyPreview, type Ballot, type Tally } from './tally.ts'
import { lazyView } from './lazy-view.ts'
import { isIndexLike, pollJson } from './poll-json.ts'
import { pollSent, pollVoteRecord, pollVoteRejected } from '../webhooks/events.ts'
import type { WebhookEventType } from '../../contract/webhooks.ts'
import type { NewPoll, PollCreation } from './types.ts'

export interface VoteEngineDeps {
  journal: VoteJournal
  identity: Identity
  log: Logger
  emitter: Emitter
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
  /** caps on undecryptable votes kept for retries (see pending.ts) */
  pendingLimits?: PendingLimits
  /** a vote still undecryptable after this long expires (default 30 days) */
  pendingMaxAgeMs?: number
  /** pending rows re-derived per turn of the write queue (default 100), so retries never hold back new votes */
  retryChunk?: number
  /** webhook events, written in the commit of what they report; none are built when nobody listens */
  webhooks?: WebhookHooks
}

/** What the engine needs to write webhook events: its account and whether anybody wants a type. */
export interface WebhookHooks {
  account: string
  wanted(type: WebhookEventType): boolean
}

/** Which pending votes a retry is for: those from these JIDs (a LID↔PN pair just learned). */
export interface RetryScope { jids: string[] }

export interface VoteStats {
  /** polls shown by all() */
  polls: number
  /** journal rows that decrypted and count (or counted) */
  decrypted: number
  duplicate: number
  rejected: number
  pending: { unknown_poll: number; no_key: number }
}

export interface VoteEngine extends PollReader, VoteSink {
  /** Stores a poll about to be sent (status `sending`, not shown) and returns its id and secret. */
  preparePoll(poll: NewPoll): Promise<{ id: string; secret: Uint8Array }>
  /** A message id for a poll to send later (NewPoll.id): written down before the send by whoever sends it. */
  newPollId(): string
  /** A poll's tally as it stands: counts per option, and each voter's current ballot (retractions included); undefined for an unknown poll. */
  tally(pollId: string): Pick<Tally, 'counts' | 'current'> | undefined
  /** Follows every committed change of a voter's current ballot, and every rebuild; returns the remover. */
  watchBallots(w: BallotWatcher): () => void
  /** The send went out: the poll is shown and announced (`poll:new`). False for an unknown id. */
  markSent(id: string): Promise<boolean>
  /** The send was rejected: kept (secret included) but not shown. False if unknown or already out. */
  markFailed(id: string, reason: string): Promise<boolean>
  /** Re-derives the tally of one poll (or all) from the raw journal alone. */
  rebuild(pollId?: string): Promise<Record<string, PollView>>
  status(id: string): { status: PollStatus; reason?: string; listed: boolean } | undefined
  stats(): VoteStats
  /** True while votes wait to be committed: other work (webhook delivery) gives way. */
  busy(): boolean
  /** Commits what is queued and waits for it; later writes reject. */
  close(): Promise<void>
}

/** A journal row being (re)derived: a new sighting to insert, or a stored row to update. */
interface Work {
  seq: number
  hash: string
  raw: RawVote
  confirmed: boolean
  /** the stored row, when this is a re-derivation */
  prev?: StoredVote
  /** the sender's JIDs, when already worked out */
  sender?: readonly string[]
  person?: Person
  derived?: Derived
  /** the counted ballot, when the webhook preview already made it (countWork reuses it) */
  ballot?: Ballot
}

interface Dup { seq: number; hash: string; raw: RawVote; dupOf: number; confirmed: boolean }

/** One write: what it commits, and what it does to memory and announces once it committed. */
interface Change {
  commit: Required<Pick<JournalCommit, 'polls' | 'statuses' | 'creators' | 'votes' | 'derived' | 'enrich' | 'persons' | 'expire' | 'events'>> & Pick<JournalCommit, 'alongside'>
  after: Array<() => void>
}

const NOBODY: Person = { named: [] }

/**
 * The vote engine of one account: its polls and their secrets, the vote journal, the tally
 * derived from it. Every write goes through one exclusive section (group commits, retries,
 * rebuilds take turns) and is one `journal.commit`; memory changes and events follow only a
 * commit that succeeded. Reads are served from memory (polls) or the store (history).
 *
 * Decisions (issues #4, #11):
 * - A poll's life is its status (`sending` → `sent` | `failed`; `received` from another
 *   device), changed only by setStatus; whether it is shown follows from it (state.ts shown()).
 *   Votes count for every poll whatever its status; events go out only for shown polls.
 * - Journal first: a vote's raw row and what is derived from it commit together, before the
 *   promise resolves and before any event; no failure to decrypt keeps a vote out.
 * - Duplicates are per sender: a repeat of the same payload from the same person (PN or LID)
 *   is a `duplicate` row, never counted, except the upsert sighting of a vote first seen at
 *   the Signal layer, which only enriches the first row. A copy re-sent by someone else is
 *   their own (undecryptable) vote.
 * - Undecryptable votes are indexed, capped per sender and in all, expired with a reason, and
 *   retried only where a newly known LID↔PN pair, poll or own identity can make a difference.
 * - Restart: the tally is recomputed from the journal's derived columns (one pass, no decryption).
 */
export async function createVoteEngine(deps: VoteEngineDeps): Promise<VoteEngine> {
  const { journal, identity, log } = deps
  const now = deps.now ?? Date.now
  const metrics = deps.metrics ?? noVoteMetrics
  const state = createVoteState(deps.pendingLimits)
  const maxAgeMs = deps.pendingMaxAgeMs ?? 30 * 24 * 3600_000
  const chunk = deps.retryChunk ?? 100

  let tail: Promise<unknown> = Promise.resolve()
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }
  let closed = false

  // --- start

  async function load(): Promise<void> {
    const [polls, persons, pending, unconfirmed] = await Promise.all([
      journal.polls(), journal.persons(), journal.pending(), journal.unconfirmed()])
    // A rebuild keeps the polls this process prepared and has not sent hidden.
    const prepared = new Set([...state.polls()].filter((p) => p.preparedHere && p.status === 'sending').map((p) => p.id))
    const overflow = await state.load({ polls, persons, scan: journal.scan(), pending, unconfirmed,
      senderIds: identity.senderIds, preparedHere: (id) => prepared.has(id) })
    for (const [lid, pn] of state.mergedPairs()) identity.learn(pn, lid)
    await expire(overflow)
  }

  // --- writing: one change, one commit, then memory and events

  function change(): Change {
    return { commit: { polls: [], statuses: [], creators: [], votes: [], derived: [], enrich: [], persons: [], expire: [], events: [] }, after: [] }
  }

  async function apply(c: Change): Promise<void> {
    await journal.commit(c.commit)
    for (const fn of c.after) fn()
  }

  /** The one place a poll's status changes: persisted with `c`, then in memory and announced. */
  function setStatus(c: Change, p: PollState, status: PollStatus, reason?: string): void {
    if (p.status === status && p.reason === reason) return
    c.commit.statuses.push({ id: p.id, status, reason, at: now() })
    if (!p.listed && shown({ status, preparedHere: p.preparedHere })) sentEvent(c, p)
    c.after.push(() => {
      p.status = status
      p.reason = reason
      const show = shown(p)
      const was = p.listed
      state.setListed(p, show)
      if (show && !was) emit('poll:new', p)
    })
  }

  /** A new poll: persisted with `c`, then in memory and, when shown, announced (unless the caller does). */
  function addPoll(c: Change, rec: PollRecord, preparedHere: boolean, announce = true): PollState {
    c.commit.polls.push(rec)
    const p = state.pollFrom(rec, preparedHere)
    if (p.listed) sentEvent(c, p)
    c.after.push(() => {
      state.addPoll(p)
      if (announce && p.listed) emit('poll:new', p)
    })
    return p
  }

  // --- webhook events, written with the commit of what they report

  const hooks = deps.webhooks
  const wanted = (type: WebhookEventType) => !!hooks?.wanted(type)

  /** A poll becomes shown: sent from here, or created on another device of the account. */
  function sentEvent(c: Change, p: PollState): void {
    if (wanted('poll.sent')) c.commit.events.push(pollSent({ account: hooks!.account, pollMsgId: p.id, poll: pollView(p, p.tally) }, now()))
  }

  /**
   * A batch's votes as events: each counted change of a voter's selection (worked out on a
   * preview of the tally, before the commit), and each vote newly rejected.
   */
  function voteEvents(c: Change, works: readonly Work[]): void {
    const votes = wanted('poll.vote')
    const rejected = wanted('poll.vote.rejected')
    if (!votes && !rejected) return
    const previews = new Map<PollState, ReturnType<typeof tallyPreview>>()
    const at = now()
    for (const w of works) {
      const d = w.derived!
      const p = state.poll(w.raw.pollId)
      if (!p) continue
      if (d.state === 'rejected' && rejected && w.prev?.state !== 'rejected') {
        const voter = identity.fromRaw(w.raw)
        c.commit.events.push(pollVoteRejected({ account: hooks!.account, pollMsgId: p.id,
          voter: state.canonical(voter.pn ?? voter.lid ?? w.raw.participant ?? w.raw.chatId), reason: d.reason }, at))
      }
      if (d.state !== 'ok' || !votes) continue
      let preview = previews.get(p)
      if (!preview) previews.set(p, (preview = tallyPreview(p.tally)))
      const voter = state.canonical(d.voterKey)
      const before = preview.previous(voter)
      const b = (w.ballot = state.ballot(p, w.raw.senderTimestampMs, w.hash, d.mask, d.selected))
      if (!preview.apply(voter, b).changed) continue
      // A compact record (indices, counts): the outbox renders the body from it and the poll's texts.
      c.commit.events.push(pollVoteRecord({ account: hooks!.account, pollMsgId: p.id, voter, selected: b.sel,
        previous: before?.sel.length ? before.sel : null, senderTimestampMs: w.raw.senderTimestampMs, counts: preview.counts, poll: p }, at))
    }
  }

  function emit(event: 'poll:new' | 'poll:update', p: PollState): void {
    try {
      deps.emitter.emit(event, p.id, event === 'poll:update' ? viewLater(p) : state.view(p))
    } catch (err) {
      log.error({ err, pollMsgId: p.id, event }, 'poll listener failed')
    }
  }

  /**
   * The poll's view as it is now, built only if a listener reads it (lazy-view.ts); read later,
   * it still shows this moment: the tally keeps what changed since its mark.
   */
  function viewLater(p: PollState): PollView {
    const { tally } = p
    const m = tally.mark()
    return lazyView(() => (tally.isNow(m) ? state.view(p) : pollView(p, tally.at(m))))
  }

  // --- polls

  async function preparePoll(poll: NewPoll): Promise<{ id: string; secret: Uint8Array }> {
    if (closed) throw new Error('vote engine is closed')
    checkPoll(poll)
    if (poll.id !== undefined && (typeof poll.id !== 'string' || !poll.id || state.hasPoll(poll.id))) throw new TypeError(`poll id ${JSON.stringify(poll.id)} is taken or empty`)
    const id = poll.id ?? newPollId()
    const secret = new Uint8Array(randomBytes(32))
    // Written before the send: a vote can only be decrypted with this secret, and a crash
    // between sending and storing would lose every vote for the poll.
    await exclusive(async () => {
      const c = change()
      addPoll(c, record({ ...poll, id, secret, timestamp: now() }, 'sending'), true)
      await apply(c)
    })
    return { id, secret }
  }

  function newPollId(): string {
    let id = generateMessageIDV2(identity.ownJids().pn)
    while (state.hasPoll(id)) id = generateMessageIDV2(identity.ownJids().pn)
    return id
  }

  function markSent(id: string): Promise<boolean> {
    return exclusive(async () => {
      const p = state.poll(id)
      if (!p) { log.warn({ pollMsgId: id }, 'markSent for an unknown poll'); return false }
      const c = change()
      setStatus(c, p, 'sent')
      await apply(c)
      return true
    })
  }

  function markFailed(id: string, reason: string): Promise<boolean> {
    return exclusive(async () => {
      const p = state.poll(id)
      if (!p) return false
      if (p.status === 'sent' || p.status === 'received') {
        log.warn({ pollMsgId: id, reason }, 'markFailed for a poll that went out: ignored')
        return false
      }
      const c = change()
      setStatus(c, p, 'failed', reason)
      await apply(c)
      return true
    })
  }

  /** Write before send: the poll is stored, handed to `deliver`, then marked sent or failed. */
  async function sendPoll(input: NewPoll, deliver: (id: string, secret: Uint8Array) => Promise<void>): Promise<{ pollMsgId: string }> {
    let prepared: { id: string; secret: Uint8Array }
    const known = input.id === undefined ? undefined : state.poll(input.id)
    if (known && known.chatId !== input.chatId) throw new TypeError(`poll ${input.id} belongs to another chat`)
    if (known && (known.status === 'sent' || known.status === 'received')) return { pollMsgId: known.id }
    // Stored by an earlier attempt that may have gone out: the same message again (same id and
    // secret), which WhatsApp delivers once, never a second poll.
    if (known) prepared = { id: known.id, secret: known.secret }
    else {
      try {
        prepared = await preparePoll(input)
      } catch (err) {
        throw new AccountError('store_unavailable', 'the poll could not be stored, so it was not sent', messageOf(err))
      }
    }
    const { id, secret } = prepared
    try {
      await deliver(id, secret)
    } catch (err) {
      await markFailed(id, messageOf(err)).catch((e) => log.warn({ err: e, pollMsgId: id }, 'failed poll not marked'))
      throw new AccountError('rejected', 'WhatsApp did not accept the poll', messageOf(err))
    }
    // Sent is sent: a store failure here leaves it `sending`, which is shown after a restart.
    await markSent(id).catch((err) => log.warn({ err, pollMsgId: id }, 'sent poll not marked'))
    return { pollMsgId: id }
  }

  function recordPollCreation(poll: PollCreation): Promise<boolean> {
    if (closed) return Promise.resolve(false)
    return exclusive(async () => {
      const known = state.poll(poll.id)
      if (known) {
        // Seen again (history sync): a poll we thought failed or unsent did go out.
        if (!known.listed) {
          const c = change()
          setStatus(c, known, 'sent')
          await apply(c)
        }
        return false
      }
      checkPoll(poll)
      const c = change()
      const p = addPoll(c, record(poll, 'received'), false, false)
      await apply(c)
      const waiting = state.pending.waitingFor(poll.id)
      if (waiting.length) {
        // Its votes came first: their rows were not indexed by poll until now.
        state.setRows(poll.id, await journal.seqsOfPoll(poll.id))
        await retryRows(waiting, p)
      }
      // Announced once, with the votes that were waiting for it already counted.
      emit('poll:new', p)
      log.debug({ pollMsgId: poll.id, waiting: waiting.length }, 'poll from another device recorded')
      return true
    })
  }

  // --- votes

  /** A vote, or (no `raw`) only the key writes of a message that carried none. */
  type Item = { raw?: RawVote; hash?: string; alongside?: AlongsideWrites }
  const commits = createGroupCommit<Item, void>({
    run: (items) => exclusive(async () => {
      await batch(items)
      return new Array<void>(items.length)
    }),
    maxBatch: deps.maxBatch,
    delayMs: deps.batchDelayMs,
  })

  function ingestVote(raw: RawVote, alongside?: AlongsideWrites): Promise<void> {
    if (closed) return Promise.reject(new Error('vote engine is closed'))
    const clean = cleanVote(raw, now)
    return commits.push({ raw: clean, hash: payloadHash(clean.pollId, clean.encIv, clean.encPayload), alongside })
  }

  function commitKeys(alongside: AlongsideWrites): Promise<void> {
    if (closed) return Promise.reject(new Error('vote engine is closed'))
    return commits.push({ alongside })
  }

  /**
   * One group commit: new sightings are journaled, repeats from the same sender become
   * duplicates or enrich the first. If the commit fails, what this batch changed in memory
   * (dedup entries, unconfirmed sightings) is taken back, so nothing needs reloading.
   */
  async function batch(items: ReadonlyArray<Item>): Promise<void> {
    const works: Work[] = []
    const dups: Dup[] = []
    const enrich: Array<{ seq: number; raw: RawVote }> = []
    const retryAfter: number[] = []
    // This batch's sightings by journal number: an upsert sighting confirms a Signal one in it.
    const inBatch = new Map<number, { hash: string; raw: RawVote; confirmed: boolean }>()
    const persons: Person[] = []
    const undo = undoLog()
    for (const { raw, hash } of items) {
      if (!raw || !hash) continue // key writes only: they ride in `alongside`
      const sender = identity.senderIds(raw)
      // The Signal-layer sighting and the messages.upsert one are the same delivery: the
      // later one only fills in the message id and alt JIDs.
      const sig = raw.source === 'signal' ? undefined : state.takeSignal(hash, sender)
      if (sig) {
        undo.signalTaken(hash, sig)
        const target = inBatch.get(sig.seq)
        if (target) {
          target.raw = filled(target.raw, raw)
          target.confirmed = true
        } else {
          enrich.push({ seq: sig.seq, raw })
          if (state.pending.isNoKey(sig.seq)) retryAfter.push(sig.seq)
        }
        continue
      }
      // A number of a batch that does not commit stays a gap: nothing refers to it.
      const seq = journal.nextSeq()
      const first = await firstFromSender(hash, sender, inBatch)
      if (raw.source === 'signal') {
        state.addSignal(hash, { seq, sender })
        undo.signalAdded(hash, seq)
      }
      if (first === undefined) {
        state.addFirst(hash, seq)
        undo.firstAdded(hash, seq)
        const w: Work = { seq, hash, raw, confirmed: false, sender }
        works.push(w)
        inBatch.set(seq, w)
        continue
      }
      // Anything else from the same sender is a redelivery.
      persons.push(identity.fromRaw(raw))
      const d: Dup = { seq, hash, raw, dupOf: first, confirmed: false }
      dups.push(d)
      inBatch.set(seq, d)
    }
    try {
      await settle(works, { dups, enrich, persons, alongside: items.flatMap((i) => (i.alongside ? [i.alongside] : [])) })
    } catch (err) {
      undo.run()
      throw err
    }
    if (retryAfter.length) await retryRows(retryAfter)
  }

  /**
   * The first sighting of this payload from the same sender (in this batch or journaled), if any.
   * The index answers candidates (sightings.ts): each one's row is read for its sender, and its
   * hash is compared there too.
   */
  async function firstFromSender(hash: string, sender: readonly string[], inBatch: ReadonlyMap<number, { hash: string; raw: RawVote }>): Promise<number | undefined> {
    const firsts = state.firstSightings(hash)
    if (!firsts.length) return undefined
    const stored = firsts.filter((seq) => !inBatch.has(seq))
    const rows = new Map((stored.length ? await journal.rows(stored) : []).map((r) => [r.seq, r]))
    for (const seq of firsts) {
      const row = inBatch.get(seq) ?? rows.get(seq)
      if (row && row.hash === hash && sameSender(identity.senderIds(row.raw), sender)) return seq
    }
    return undefined
  }

  /** What a batch changed in memory before its commit (dedup entries), to take back if the commit fails. */
  function undoLog() {
    const firsts: Array<[string, number]> = []
    const signals: Array<[string, number]> = []
    const taken: Array<[string, SignalSighting]> = []
    return {
      firstAdded: (hash: string, seq: number) => { firsts.push([hash, seq]) },
      signalAdded: (hash: string, seq: number) => { signals.push([hash, seq]) },
      signalTaken: (hash: string, s: SignalSighting) => { taken.push([hash, s]) },
      run() {
        for (const [hash, seq] of firsts) state.dropFirst(hash, seq)
        for (const [hash, seq] of signals) state.dropSignal(hash, seq)
        for (const [hash, s] of taken) state.addSignal(hash, s)
      },
    }
  }

  /** Re-derives stored pending rows (a mapping or a poll became known). Returns how many resolved. */
  async function retryRows(seqs: readonly number[], quiet?: PollState): Promise<number> {
    const rows = (await journal.rows(seqs)).filter((r) => r.state === 'pending')
    if (!rows.length) return 0
    const works = rows.map((r): Work => ({ seq: r.seq, hash: r.hash, raw: r.raw, confirmed: r.confirmed, prev: r }))
    await settle(works, { quiet })
    return works.filter((w) => w.derived?.state !== 'pending').length
  }

  /**
   * Persons counted under a LID whose PN has become known since: merge them. Returns how many.
   * `only`: just these JIDs (a mapping that was just learned), else every LID voter.
   */
  async function mergeKnown(only?: readonly string[]): Promise<number> {
    const people = state.lidVotersWithPolls().filter((lid) => !only || only.includes(lid)).map((lid): Person => ({ lid, named: [lid] }))
    await Promise.all(people.map((p) => identity.completePn(p)))
    const merged = mergesFor([], people)
    if (!merged.length) return 0
    const c = change()
    const changed = new Set<PollState>()
    stageMerges(c, merged, changed)
    c.after.push(() => announce(changed))
    await apply(c)
    return merged.length
  }

  /** Decrypts and checks each row; asks the LID mapping only where the vote alone is not enough. */
  async function derive(works: Work[]): Promise<void> {
    const own = creatorCandidates(identity.ownJids())
    for (const w of works) if (state.hasPoll(w.raw.pollId)) w.person = identity.fromRaw(w.raw)
    const lidOnly = works.filter((w) => w.person?.lid && !w.person.pn)
    if (lidOnly.length) await Promise.all(lidOnly.map((w) => identity.completePn(w.person!)))
    const once = (w: Work) => {
      const p = state.poll(w.raw.pollId)
      w.derived = deriveVote(w.raw, p, w.person ?? NOBODY, own)
      // The pair that worked is tried first for the next vote of the poll.
      const hints = p && hintsOf(w.derived)
      if (hints) Object.assign(p, hints)
    }
    for (const w of works) once(w)
    // Last resort for a vote no pair decrypts: the voter's LID from the mapping store.
    const noKey = works.filter((w) => w.derived!.state === 'pending' && w.person?.pn && !w.person.lid)
    if (!noKey.length) return
    await Promise.all(noKey.map((w) => identity.completeLid(w.person!)))
    for (const w of noKey) if (w.person!.lid) once(w)
  }

  /** Derives, commits in one transaction, then counts, indexes and announces. */
  async function settle(works: Work[], opts: { dups?: Dup[]; enrich?: Array<{ seq: number; raw: RawVote }>; persons?: Person[]; quiet?: PollState;
    alongside?: AlongsideWrites[] }): Promise<void> {
    await derive(works)
    const c = change()
    if (opts.alongside?.length) c.commit.alongside = opts.alongside
    const promoted = new Set<PollState>()
    const hinted = new Set<PollState>()
    for (const w of works) {
      const row = rowOf(w.derived!)
      if (!w.prev) c.commit.votes.push({ seq: w.seq, hash: w.hash, raw: w.raw, derived: row, confirmed: w.confirmed })
      else if (changedRow(w.prev, row)) c.commit.derived.push({ seq: w.seq, derived: row })
      const p = state.poll(w.raw.pollId)
      if (!p) continue
      // A vote for a poll marked failed proves it went out.
      if (w.derived!.state === 'ok' && p.status === 'failed') promoted.add(p)
      if (p.creatorHint && p.creatorHint !== p.savedCreator) hinted.add(p)
    }
    for (const d of opts.dups ?? []) c.commit.votes.push({ seq: d.seq, hash: d.hash, raw: d.raw, derived: { state: 'dup', dupOf: d.dupOf }, confirmed: d.confirmed })
    c.commit.enrich.push(...(opts.enrich ?? []))
    for (const p of hinted) c.commit.creators.push({ id: p.id, jid: p.creatorHint! })

    // After the commit, in this order: count, then status changes (a promoted poll is announced
    // as new, with its votes), then merges, then one update per changed poll.
    const changed = new Set<PollState>()
    const expired: PendingRow[] = []
    c.after.push(() => {
      for (const w of works) {
        if (!w.prev) metrics.voteReceived(w.raw.source)
        countWork(w, changed, expired)
      }
      for (const d of opts.dups ?? []) { state.addRow(d.raw.pollId, d.seq); state.counts.dup++; metrics.voteReceived(d.raw.source) }
      for (const p of hinted) p.savedCreator = p.creatorHint
    })
    for (const p of promoted) {
      log.warn({ pollMsgId: p.id }, 'vote for a poll marked failed: it went out after all')
      setStatus(c, p, 'sent')
    }
    voteEvents(c, works)
    stageMerges(c, mergesFor(works, opts.persons ?? []), changed)
    c.after.push(() => announce(changed, new Set([...promoted, ...(opts.quiet ? [opts.quiet] : [])])))
    await apply(c)
    await expire(expired)
  }

  /** One `poll:update` per shown poll that changed, except those announced otherwise. */
  function announce(changed: ReadonlySet<PollState>, skip?: ReadonlySet<PollState>): void {
    for (const p of changed) if (p.listed && !skip?.has(p)) emit('poll:update', p)
  }

  /** Applies one committed row to memory: its count, its pending entry, its poll's tally. */
  function countWork(w: Work, changed: Set<PollState>, expired: PendingRow[]): void {
    const d = w.derived!
    const pollId = w.raw.pollId
    if (w.prev) {
      if (d.state !== 'pending') state.pending.remove(w.seq)
      if (w.prev.state === 'ok') state.counts.ok--
      else if (w.prev.state === 'rejected') state.counts.rejected--
    } else {
      state.addRow(pollId, w.seq)
    }
    // Counted once per vote: a retry or rebuild that reaches the same state is not a new event.
    if (d.state === 'pending') {
      if (!w.prev) metrics.votePending(d.reason)
      expired.push(...state.pending.add({ seq: w.seq, hash: w.hash, pollId, reason: d.reason, sender: w.sender ?? identity.senderIds(w.raw) }))
      return
    }
    if (d.state === 'rejected') {
      if (w.prev?.state !== 'rejected') metrics.voteFailed(d.reason)
      state.counts.rejected++
      return
    }
    if (w.prev?.state !== 'ok') metrics.voteDecrypted()
    state.counts.ok++
    const p = state.poll(pollId)!
    if (state.count(p, d.voterKey, w.ballot ?? state.ballot(p, w.raw.senderTimestampMs, w.hash, d.mask, d.selected))) changed.add(p)
  }

  /**
   * LID↔PN pairs that join two voters: a person counted under a LID (their PN unknown then)
   * now shows up with both. Rare; checked with one map lookup per vote.
   */
  function mergesFor(works: readonly Work[], others: readonly Person[]): Array<{ lid: string; pn: string }> {
    const lidKeys = new Set<string>()
    for (const w of works) {
      const d = w.derived!
      if (d.state === 'ok' && isLid(d.voterKey)) lidKeys.add(d.voterKey)
    }
    const out: Array<{ lid: string; pn: string }> = []
    const consider = (p: Person | undefined) => {
      if (!p?.pn || !p.lid || !(state.isCountedUnderLid(p.lid) || lidKeys.has(p.lid))) return
      if (!state.isMerged(p.lid) && !out.some((m) => m.lid === p.lid)) out.push({ lid: p.lid, pn: p.pn })
    }
    for (const w of works) consider(w.person)
    for (const p of others) consider(p)
    for (const m of out) identity.learn(m.pn, m.lid)
    return out
  }

  /** Persisted with `c`; after it, each merge recounts the polls it touches (added to `changed`). */
  function stageMerges(c: Change, merges: Array<{ lid: string; pn: string }>, changed: Set<PollState>): void {
    if (!merges.length) return
    c.commit.persons.push(...merges)
    c.after.push(() => { for (const m of merges) for (const p of state.merge(m.lid, m.pn)) changed.add(p) })
  }

  /**
   * Gives up on pending rows that fell out of the index (over the caps, or too old): they stay
   * in the journal as `rejected`/`expired` and are never retried again. A failed write leaves
   * them pending in the store; the next start indexes them again and expires them then.
   */
  async function expire(rows: readonly PendingRow[]): Promise<void> {
    if (!rows.length) return
    const c = change()
    c.commit.expire.push(...rows.map((r) => r.seq))
    try {
      await apply(c)
    } catch (err) {
      log.debug({ err }, 'expiry not written')
      return
    }
    for (const r of rows) {
      state.dropFirst(r.hash, r.seq)
      state.counts.rejected++
      metrics.voteFailed('expired')
    }
    log.info({ votes: rows.length }, 'undecryptable votes expired')
  }

  /** Pending votes older than the limit: given up on (kept in the journal as expired). */
  async function expireOld(): Promise<void> {
    if (!Number.isFinite(maxAgeMs)) return
    const old = await journal.pendingBefore(now() - maxAgeMs)
    await expire(old.map((seq) => state.pending.remove(seq)).filter((r) => r !== undefined))
  }

  // --- retries: requests fold into one plan; one runner works it off a chunk per write-queue
  // turn, so a burst of logins and mapping updates costs one pass, and votes commit in between.

  let plan: { all: boolean; jids: Set<string> } | null = null
  let runner: Promise<void> | null = null
  let lastFullIdentity: string | null = null
  const identityKey = () => { const { pn, lid } = identity.ownJids(); return `${norm(pn)}|${norm(lid)}` }

  function retryPending(scope?: RetryScope): Promise<void> {
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
      await exclusive(expireOld)
      const seqs = all ? state.pending.noKeySeqs() : state.pending.noKeySeqs((sender) => sender.some((j) => jids.has(j)))
      // Polls that became known while their votes were queued (they are retried on arrival).
      if (all) for (const p of state.polls()) seqs.push(...state.pending.waitingFor(p.id))
      let resolved = 0
      for (let i = 0; i < seqs.length && !closed; i += chunk) {
        if (i) await new Promise<void>((resolve) => setImmediate(resolve))
        resolved += await exclusive(() => retryRows(seqs.slice(i, i + chunk)))
      }
      const merged = await exclusive(() => mergeKnown(all ? undefined : [...jids]))
      if (resolved || merged) log.info({ tried: seqs.length, resolved, merged }, 'pending votes retried')
    }
  }

  function onLogin(): Promise<void> {
    // Only the own identity is new at a login; pairs learned meanwhile come as their own retries.
    if (lastFullIdentity !== identityKey()) return retryPending()
    return exclusive(() => mergeKnown()).then(() => undefined)
  }

  const started = performance.now()
  await load()
  await expireOld()
  log.info({ polls: state.pollCount(), votes: state.dedupSize(), pending: state.pending.size(),
    ms: Math.round(performance.now() - started) }, 'vote engine loaded')

  // --- reads

  function listed(id: string) {
    const p = state.poll(id)
    return p?.listed ? p : undefined
  }

  function all(): Record<string, PollView> {
    const out: Record<string, PollView> = {}
    for (const p of state.polls()) if (p.listed) out[p.id] = state.view(p)
    return out
  }

  /**
   * all() as JSON text, a poll at a time, each written from its tally when its piece is read
   * (poll-json.ts): a long body is streamed without a view or a string of the whole. The polls
   * are those shown when it starts, each as it is when written (none left half-changed).
   */
  function* allJson(): Generator<string> {
    const shownNow = [...state.polls()].filter((p) => p.listed)
    // An object would list an index-like id first: only JSON.stringify of all() orders it right.
    if (shownNow.some((p) => p.id === '__proto__' || isIndexLike(p.id))) {
      yield JSON.stringify(all())
      return
    }
    yield '{'
    let first = true
    for (const p of shownNow) {
      if (!p.listed) continue
      yield `${first ? '' : ','}${JSON.stringify(p.id)}:${pollJson(p, p.tally)}`
      first = false
    }
    yield '}'
  }

  return {
    all,
    allJson,
    revision: () => state.revision(),
    get(id) {
      const p = listed(id)
      return p && state.view(p)
    },
    async votes(id) {
      const p = listed(id)
      return p && pollHistory({ state, journal, identity }, p)
    },
    preparePoll,
    newPollId,
    tally: (pollId) => state.poll(pollId)?.tally,
    watchBallots: (w) => state.watch(w),
    markSent,
    markFailed,
    sendPoll,
    recordPollCreation,
    pollCreation(id) {
      const p = state.poll(id)
      return p && { id: p.id, chatId: p.chatId, question: p.question, options: [...p.options],
        selectableCount: p.selectableCount, secret: p.secret, timestamp: p.timestamp }
    },
    ingestVote,
    commitKeys,
    retryPending,
    onLogin,
    async rebuild(pollId) {
      await commits.drain()
      const before = new Map([...state.polls()].filter((p) => p.listed).map((p) => [p.id, state.view(p)]))
      await exclusive(async () => {
        const works = (await storedRows({ state, journal }, pollId === undefined ? undefined : [pollId])).filter((r) => r.state !== 'dup')
          .map((r): Work => ({ seq: r.seq, hash: r.hash, raw: r.raw, confirmed: r.confirmed, prev: r }))
        await derive(works)
        const c = change()
        for (const w of works) { const row = rowOf(w.derived!); if (changedRow(w.prev!, row)) c.commit.derived.push({ seq: w.seq, derived: row }) }
        c.commit.persons.push(...mergesFor(works, []))
        await journal.commit(c.commit)
        await load()
      })
      for (const p of state.polls()) {
        const was = before.get(p.id)
        if (p.listed && was && !sameTally(was, state.view(p))) emit('poll:update', p)
      }
      if (pollId === undefined) return all()
      const p = state.poll(pollId)
      return p ? { [pollId]: state.view(p) } : {}
    },
    status(id) {
      const p = state.poll(id)
      return p && { status: p.status, ...(p.reason ? { reason: p.reason } : {}), listed: p.listed }
    },
    stats() {
      let polls = 0
      for (const p of state.polls()) if (p.listed) polls++
      return { polls, decrypted: state.counts.ok, duplicate: state.counts.dup, rejected: state.counts.rejected, pending: state.pending.counts() }
    },
    busy: () => commits.pending() > 0 || commits.running(),
    async close() {
      closed = true
      await commits.drain()
      await runner
      await tail
    },
  }
}

/** The journal columns of a derived vote. */
function rowOf(d: Derived): RowDerived {
  if (d.state === 'ok') return { state: 'ok', voterKey: d.voterKey, creatorJid: d.creatorJid, voterJid: d.voterJid, selected: d.selected, mask: d.mask }
  if (d.state === 'pending') return { state: 'pending', reason: d.reason }
  return { state: 'rejected', reason: d.reason, creatorJid: d.creatorJid, voterJid: d.voterJid, selected: d.selected }
}

function changedRow(a: RowDerived, b: RowDerived): boolean {
  return a.state !== b.state || a.reason !== b.reason || a.voterKey !== b.voterKey || a.creatorJid !== b.creatorJid
    || a.voterJid !== b.voterJid || (a.selected ?? []).join() !== (b.selected ?? []).join() || a.mask !== b.mask
}

function filled(first: RawVote, later: RawVote): RawVote {
  return {
    ...first,
    msgId: first.msgId ?? later.msgId,
    remoteJidAlt: first.remoteJidAlt ?? later.remoteJidAlt,
    participant: first.participant ?? later.participant,
    participantAlt: first.participantAlt ?? later.participantAlt,
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

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
