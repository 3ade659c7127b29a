import type { AuthenticationCreds, AuthenticationState } from '@whiskeysockets/baileys'
import type { CampaignChatState, CampaignStatus } from '../contract/campaigns.ts'
import type { AppendedEvent, Outbox, OutboxEvent } from './outbox-port.ts'

/**
 * The store port: everything the core keeps, as interfaces. SQLite (store/sqlite, the embedded
 * default) and an in-memory store (store/memory, for tests) implement it today, PostgreSQL
 * next; test/store/contract.ts runs the same cases against each. Every method is async so that
 * a networked database fits; every write the vote path makes is one `commit` (one transaction),
 * which is also where a webhook outbox event will be written with the vote that caused it.
 * This file holds types only and imports nothing of the core, so core → store/ports ← store/*.
 */

// --- polls and the vote journal

/**
 * Lifecycle of a poll this account created: `sending` is written before the send (so its
 * secret survives a crash mid-send), `sent` once WhatsApp accepted it, `failed` when the send
 * was rejected, `received` when it was created from another device of the account.
 */
export type PollStatus = 'sending' | 'sent' | 'failed' | 'received'

/** A poll as persisted: everything needed to show it and to decrypt its votes forever. */
export interface PollRecord {
  id: string
  chatId: string
  question: string
  options: string[]
  /** sha256 hex per option, same order */
  hashes: string[]
  selectableCount: number
  secret: Uint8Array
  /** ms */
  timestamp: number
  status: PollStatus
  reason?: string
  creatorJid?: string
}

/**
 * A pollUpdateMessage as it came off the wire, before decryption. Journaled verbatim:
 * the journal is the source of truth and the tally is derived from it.
 */
export interface RawVote {
  /** id of the vote message; absent when journaled from the Signal layer before Baileys built the key */
  msgId?: string
  /** id of the poll creation message (pollCreationMessageKey.id) */
  pollId: string
  /** chat the vote was sent in (key.remoteJid) */
  chatId: string
  remoteJidAlt?: string
  participant?: string
  participantAlt?: string
  fromMe: boolean
  /** pollUpdateMessage.senderTimestampMs, falling back to the message timestamp × 1000 */
  senderTimestampMs: number
  encPayload: Uint8Array
  encIv: Uint8Array
  /** where it was seen: live (`notify`), offline/history (`append`), or the Signal layer before the ack */
  source: 'notify' | 'append' | 'signal'
  receivedAt: number
}

export type RowState = 'ok' | 'pending' | 'rejected' | 'dup'
export type PendingReason = 'unknown_poll' | 'no_key'

/** The derived columns of a journal row (the raw vote itself never changes, except enrichment). */
export interface RowDerived {
  state: RowState
  reason?: string
  dupOf?: number
  voterKey?: string
  creatorJid?: string
  voterJid?: string
  /** decrypted option hashes (hex), as the vote listed them */
  selected?: string[]
  /** counted options as a bitmask of option indices (ok rows of polls with up to 31 options) */
  mask?: number
}

/** A whole journal row. */
export interface StoredVote extends RowDerived {
  seq: number
  hash: string
  raw: RawVote
  /** a Signal-layer sighting later confirmed (and enriched) by messages.upsert */
  confirmed: boolean
}

/** The slice of a row the engine folds on start: no payloads, no raw JIDs. */
export interface ScanRow {
  seq: number
  pollId: string
  hash: string
  state: RowState
  voterKey: string | null
  senderTs: number
  mask: number | null
  /** only for counted rows without a mask (polls with more than 31 options) */
  selected: string | null
}

/** The fields of a vote that name its sender. */
export type SenderFields = Pick<RawVote, 'chatId' | 'participant' | 'participantAlt' | 'remoteJidAlt' | 'fromMe'>

/** A row's number and hash with what names its sender: for the dedup and pending indexes. */
export interface SenderRow {
  seq: number
  hash: string
  reason: PendingReason
  raw: SenderFields & Pick<RawVote, 'pollId'>
}

/** Everything one write of the vote engine changes, applied in one transaction or not at all. */
export interface JournalCommit {
  polls?: PollRecord[]
  statuses?: Array<{ id: string; status: PollStatus; reason?: string; at: number }>
  creators?: Array<{ id: string; jid: string }>
  /** new journal rows */
  votes?: Array<{ seq: number; hash: string; raw: RawVote; derived: RowDerived; confirmed: boolean }>
  /** re-derived rows */
  derived?: Array<{ seq: number; derived: RowDerived }>
  /** a later sighting fills what the first one lacked (message id, alt JIDs) and confirms it */
  enrich?: Array<{ seq: number; raw: RawVote }>
  /** LIDs merged into phone numbers (persons counted under a LID before the mapping was known) */
  persons?: Array<{ lid: string; pn: string }>
  /** pending rows given up on: rejected as `expired` */
  expire?: number[]
  /** webhook events reporting what this commit changed: written with it, or not at all */
  events?: AppendedEvent[]
  /** Signal-key updates of the messages that carried these votes: written with them, or not at all */
  alongside?: AlongsideWrites[]
}

/** One Signal key as stored: its JSON (BufferJSON), or null to delete it. */
export interface KeyRow { type: string; id: string; json: string | null }

/**
 * Writes that must commit in the same transaction as a vote: the Signal-key update of the
 * message that carried it (store/key-staging.ts). The journal takes them while it writes its
 * transaction, as late as possible, so keys staged while the batch was prepared still join.
 * Their hold learns whether they committed from the vote's own outcome (KeyHold.finish/drop).
 */
export interface AlongsideWrites {
  take(): KeyRow[]
}

/** The polls and the vote journal of one account. */
export interface VoteJournal {
  polls(): Promise<PollRecord[]>
  persons(): Promise<Array<{ lid: string; pn: string }>>
  /**
   * every row in journal order, a chunk at a time: a reader keeps what it folds and drops the
   * chunk, so a start holds one chunk of the journal, never all of it (nor any payload)
   */
  scan(): AsyncIterable<ScanRow[]>
  /** rows waiting for their poll or key, oldest first */
  pending(): Promise<SenderRow[]>
  /** Signal-layer sightings no upsert confirmed yet, oldest first */
  unconfirmed(): Promise<SenderRow[]>
  maxSeq(): Promise<number>
  /** a journal number for a new row: unique in the store, increasing; a number given out and not committed stays a gap */
  nextSeq(): number
  /** whole rows by journal number, in journal order */
  rows(seqs: readonly number[]): Promise<StoredVote[]>
  /** every row number of one poll (a full scan: for the rare poll that arrives after its votes) */
  seqsOfPoll(pollId: string): Promise<number[]>
  /** whole rows of one poll numbered `from` to `to` (its first and last), in journal order: its history, read when asked for */
  pollRows(pollId: string, from: number, to: number): Promise<StoredVote[]>
  /** pending rows received before `ms` */
  pendingBefore(ms: number): Promise<number[]>
  /** the only write */
  commit(c: JournalCommit): Promise<void>
}

// --- chats

export interface ChatRow { id: string; name: string | null }

/** The chats and contacts of one account (Baileys 7 keeps none). */
export interface ChatTable {
  all(): Promise<ChatRow[]>
  /** adds or renames; a null name never erases a known one */
  upsert(rows: ChatRow[]): Promise<void>
  clear(): Promise<void>
}

// --- campaigns

/** A campaign as persisted: the poll it sends and how, and where it stands. */
export interface CampaignRecord {
  id: string
  question: string
  options: string[]
  selectableCount: number
  delayMin: number
  delayMax: number
  status: CampaignStatus
  /** ms */
  createdAt: number
}

/** One chat of a campaign, in send order (`idx` from 0). */
export interface CampaignChatRecord {
  idx: number
  chatId: string
  state: CampaignChatState
  /** written before the send, so a crash mid-send re-sends the same message, never a second one */
  pollMsgId?: string
  error?: string
  /** ms of the last change */
  at?: number
}

/** Everything one write of an account's campaigns changes, applied in one transaction or not at all. */
export interface CampaignCommit {
  /** a new campaign with its chats, all `queued` */
  create?: { campaign: CampaignRecord; chatIds: string[] }
  status?: { id: string; status: CampaignStatus }
  chats?: Array<{ campaignId: string; idx: number; state: CampaignChatState; pollMsgId?: string; error?: string; at: number }>
  /** webhook events reporting what this commit changed: written with it, or not at all */
  events?: OutboxEvent[]
}

/** The campaigns of one account (few rows: read whole at start, changed one commit at a time). */
export interface CampaignTable {
  /** every campaign with its chats in send order, oldest campaign first */
  all(): Promise<Array<CampaignRecord & { chats: CampaignChatRecord[] }>>
  commit(c: CampaignCommit): Promise<void>
}

// --- WhatsApp credentials and Signal keys

/** Baileys' auth state of one account, and the LID↔PN pairs it stores among its keys. */
export interface AuthState {
  /** the saved credentials, or fresh ones for a new pairing (not saved until Baileys updates them) */
  load(): Promise<AuthenticationState>
  saveCreds(creds: AuthenticationCreds): Promise<void>
  /** forgets credentials and every Signal key, in one transaction */
  clear(): Promise<void>
  /** LID↔PN lookups straight from the stored mapping keys (never a network query) */
  getLIDForPN(pn: string): Promise<string | null>
  getPNForLID(lid: string): Promise<string | null>
  /** every stored pair, for the identity's cache at start */
  lidPairs(): Promise<Array<{ lid: string; pn: string }>>
  /**
   * Called after a write that stored new LID↔PN pairs (JIDs). Baileys learns most pairs from
   * message envelopes without an event; votes waiting for exactly such a pair retry from here.
   */
  onLidMapping(fn: (pairs: Array<{ lid: string; pn: string }>) => void): () => void
  /**
   * Holds back the Signal-key writes of one incoming message's decryption: the vote it journals
   * carries them into its own transaction (`alongside`), what is left is written at `finish`,
   * nothing if the vote was not journaled (`drop`). Reads see held writes.
   */
  holdKeys(): KeyHold
  /** every held write is void and every hold opened so far writes nothing more (a connection gave up after a failed write) */
  resetHeldKeys(): void
}

/** One message's held Signal-key writes (store/key-staging.ts). */
export interface KeyHold {
  /** runs `work` with this hold's key writes staged (reads see them) */
  run<T>(work: () => Promise<T>): Promise<T>
  /** the staged writes, for the journal commit of the vote the message carried (or of the next votes, when it carried none) */
  alongside(): AlongsideWrites
  /** whether writes are staged that no commit has carried yet */
  held(): boolean
  /** after the vote committed: forgets what its transaction carried, writes what it did not */
  finish(): Promise<void>
  /** forgets what is staged: the vote was not journaled */
  drop(): void
}

// --- the whole store

/** One account's slice of the store. */
export interface AccountStore {
  auth: AuthState
  chats: ChatTable
  votes: VoteJournal
  campaigns: CampaignTable
}

/** Whether the store takes writes (GET /health); every write of every account reports to it. */
export interface StoreHealth {
  ok(): boolean
}

export interface Store {
  /** the slice of one account (created on first use) */
  account(id: string): AccountStore
  /**
   * The registered accounts (what the server links and reconnects at start): `default` first,
   * always there, then the others in the order they were added.
   */
  accounts(): Promise<string[]>
  /** registers an account; false when it already was (`default` always is) */
  addAccount(id: string): Promise<boolean>
  /**
   * Unregisters an account and deletes its credentials, Signal keys and chats, in one
   * transaction; its polls, vote journal and campaigns stay (they come back if the id is added
   * again) unless `purge`, which deletes them too. The webhook outbox is not touched. False when it
   * was not registered; `default` cannot be removed (an error).
   */
  removeAccount(id: string, purge: boolean): Promise<boolean>
  /** webhook endpoints and deliveries, for every account */
  outbox: Outbox
  health: StoreHealth
  /** after every writer stopped: flushes and closes */
  close(): Promise<void>
}
