import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createIdentity, type Identity } from '../../../core/identity.ts'
import { openMemoryDb, type Db } from '../../../store/sqlite/db.ts'
import { createStoreHealth } from '../../../store/sqlite/health.ts'
import { createSqliteJournal } from '../../../store/sqlite/votes.ts'
import { sqliteKeyWriter } from '../../../store/sqlite/auth.ts'
import { migrate } from '../../../store/sqlite/schema.ts'
import { createSqliteOutbox, type SqliteOutbox } from '../../../store/sqlite/outbox.ts'
import type { WebhookEventType } from '../../../contract/webhooks.ts'
import type { StoreHealth } from '../../../store/ports.ts'
import { createEmitter } from '../../../contract/events.ts'
import type { Emitter } from '../../../contract/events.ts'
import type { PollView } from '../../../contract/polls.ts'
import type { RawVote } from '../../../store/ports.ts'
import { encryptPollVote, optionHashBytes } from '../../../core/votes/crypto.ts'
import { createVoteEngine } from '../../../core/votes/engine.ts'
import type { VoteEngine, VoteEngineDeps } from '../../../core/votes/engine.ts'

/** This account, as Baileys reports it: with device suffixes. */
export const OWN = { pn: '15550000001:12@s.whatsapp.net', lid: '99990000001:12@lid' }
export const OWN_PN = '15550000001@s.whatsapp.net'
export const OWN_LID = '99990000001@lid'

export interface Voter { pn: string; lid: string }
export function voter(n: number): Voter {
  const id = String(n).padStart(6, '0')
  return { pn: `1777${id}@s.whatsapp.net`, lid: `5555${id}@lid` }
}

export const silentLog = () => pino({ level: 'silent' })

/** Baileys' lidMapping shape over a Map; records lookups so tests can see what was asked. */
export function fakeLidMapping(pairs: Array<[lid: string, pn: string]> = []) {
  const lidToPn = new Map(pairs)
  const calls: string[] = []
  return {
    calls,
    add(lid: string, pn: string) { lidToPn.set(lid, pn) },
    async getPNForLID(lid: string) { calls.push(`pn:${lid}`); return lidToPn.get(lid.replace(/:\d+@/, '@')) ?? null },
    async getLIDForPN(pn: string) {
      calls.push(`lid:${pn}`)
      for (const [l, p] of lidToPn) if (p === pn.replace(/:\d+@/, '@')) return l
      return null
    },
  }
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-votes-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface Rig {
  engine: VoteEngine
  /** the SQLite database under the journal, for tests that look at rows */
  db: Db
  emitter: Emitter
  mapping: ReturnType<typeof fakeLidMapping>
  identity: Identity
  /** the store's health, fed by the journal's writes */
  health: StoreHealth
  outbox?: SqliteOutbox
  events: Array<{ event: 'poll:new' | 'poll:update'; id: string; poll: PollView }>
}

export type RigOptions = Partial<Omit<VoteEngineDeps, 'journal' | 'identity' | 'webhooks'>> & {
  mapping?: ReturnType<typeof fakeLidMapping>
  /** a webhook outbox on the same database: events are written with the votes */
  outbox?: boolean
  /** a database (a file one for restarts); in memory by default */
  db?: Db
  /** Signal-key rows carried by commits (`alongside`) are written, as the server wires it */
  keys?: boolean
}

/** A real engine over a real SQLite journal, events recorded. */
export async function rig(opts: RigOptions = {}): Promise<Rig> {
  const db = opts.db ?? openMemoryDb()
  const mapping = opts.mapping ?? fakeLidMapping()
  const emitter = opts.emitter ?? createEmitter()
  const log = opts.log ?? silentLog()
  const events: Rig['events'] = []
  emitter.on('poll:new', (id, poll) => events.push({ event: 'poll:new', id, poll }))
  emitter.on('poll:update', (id, poll) => events.push({ event: 'poll:update', id, poll }))
  const identity = createIdentity({ lidMapping: mapping, log })
  identity.setOwn({ id: OWN.pn, lid: OWN.lid, name: 'Owner' })
  const health = createStoreHealth({ db, log })
  migrate(db)
  const outbox = opts.outbox ? createSqliteOutbox(db) : undefined
  const journal = createSqliteJournal(db, 'default', health, undefined, outbox, opts.keys ? sqliteKeyWriter(db, 'default') : undefined)
  const engine = await createVoteEngine({
    log,
    // Fixture votes are received in 1970: no age limit unless a test sets one.
    pendingMaxAgeMs: Number.POSITIVE_INFINITY,
    ...opts,
    journal,
    identity,
    emitter,
    ...(outbox ? { webhooks: { account: 'default', wanted: (type: WebhookEventType) => outbox.wanted(type, 'default') } } : {}),
  })
  return { engine, db, emitter, mapping, identity, health, events, outbox }
}

/** Prepares and sends a poll. */
export async function sentPoll(engine: VoteEngine, options = ['Red', 'Blue', 'Green'], selectableCount = 0, chatId = '120363000000000001@g.us') {
  const { id, secret } = await engine.preparePoll({ chatId, question: 'Colour?', options, selectableCount })
  await engine.markSent(id)
  return { id, secret, chatId }
}

export interface VoteOpts {
  /** option texts, or raw hash bytes for malformed votes */
  choose: Array<string | Uint8Array>
  ts: number
  msgId?: string
  /** which own JID the voter's client signs as the poll creator */
  creator?: string
  /** which of the voter's JIDs the client signs with */
  signAs?: 'pn' | 'lid'
  /** how the vote is addressed: a group (participant + alt), or a direct chat by LID + PN alt, by PN only, by LID only */
  address?: 'group' | 'lid+pn' | 'pn' | 'lid'
  source?: RawVote['source']
  receivedAt?: number
  fromMe?: boolean
}

/** A vote as Baileys would hand it over, encrypted with the exact inverse of decryptPollVote. */
export function vote(poll: { id: string; secret: Uint8Array; chatId?: string }, who: Voter, o: VoteOpts): RawVote {
  const signer = o.fromMe ? (o.signAs === 'lid' ? OWN_LID : OWN_PN) : o.signAs === 'lid' ? who.lid : who.pn
  const enc = encryptPollVote({
    pollMsgId: poll.id,
    pollCreatorJid: o.creator ?? OWN_PN,
    voterJid: signer,
    secret: poll.secret,
    selectedOptions: o.choose.map((c) => (typeof c === 'string' ? optionHashBytes(c) : c)),
  })
  const address = o.address ?? 'group'
  const raw: RawVote = {
    msgId: o.msgId,
    pollId: poll.id,
    chatId: address === 'group' ? poll.chatId ?? '120363000000000001@g.us' : address === 'pn' ? who.pn : who.lid,
    fromMe: o.fromMe ?? false,
    senderTimestampMs: o.ts,
    encPayload: enc.encPayload,
    encIv: enc.encIv,
    source: o.source ?? 'notify',
    receivedAt: o.receivedAt ?? o.ts + 5,
  }
  if (address === 'group') { raw.participant = who.lid; raw.participantAlt = who.pn }
  if (address === 'lid+pn') raw.remoteJidAlt = who.pn
  return raw
}

/** sha256 hex of option texts, for expected `voters` values. */
export { optionHash } from '../../../core/votes/crypto.ts'
