import type { Pool } from './db.ts'
import { tx } from './db.ts'

/*
 * The PostgreSQL schema: the tables of the SQLite store (store/sqlite/schema.ts and outbox.ts),
 * each per-account row marked with its `account`, in one schema of the database (`public` by
 * default). Migrations are numbered and each runs once, in one transaction, recorded in
 * `schema_migrations`; processes starting together take turns on a transaction-scoped advisory
 * lock, so a migration never runs twice.
 *
 * Journal numbers are per account: the primary key is (account, seq), and each account's
 * numbers come from an in-process counter of the process that owns the account.
 */

export interface Migration { version: number; name: string; sql: string }

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE poll_record (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  question TEXT NOT NULL,
  options TEXT[] NOT NULL,
  option_hashes TEXT[] NOT NULL,
  selectable_count INTEGER NOT NULL,
  secret BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'received')),
  reason TEXT,
  creator_jid TEXT,
  updated_at BIGINT NOT NULL,
  -- insertion order, the tie-break of polls created in the same millisecond (SQLite's rowid)
  pos BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (account, id)
);

-- One row per sighting of a vote, raw as it came off the wire, plus what was derived from it.
-- No index on poll_id, as in SQLite: the engine keeps each poll's first and last row number
-- and reads its rows in that range of the primary key.
CREATE TABLE vote_journal (
  account TEXT NOT NULL,
  seq BIGINT NOT NULL,
  poll_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL,
  msg_id TEXT,
  chat_id TEXT NOT NULL,
  remote_jid_alt TEXT,
  participant TEXT,
  participant_alt TEXT,
  from_me BOOLEAN NOT NULL,
  sender_ts BIGINT NOT NULL,
  enc_payload BYTEA NOT NULL,
  enc_iv BYTEA NOT NULL,
  source TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  dup_of BIGINT,
  voter_key TEXT,
  creator_jid TEXT,
  voter_jid TEXT,
  selected TEXT,
  sel_mask INTEGER,
  confirmed BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (account, seq)
);
-- Pending rows only: what a retry and the expiry read back.
CREATE INDEX vote_journal_pending ON vote_journal (account, seq) WHERE state = 'pending';

CREATE TABLE vote_person (
  account TEXT NOT NULL,
  lid TEXT NOT NULL,
  pn TEXT NOT NULL,
  PRIMARY KEY (account, lid)
);

CREATE TABLE chats (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT,
  is_group BOOLEAN NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (account, id)
);

CREATE TABLE auth_creds (account TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE auth_keys (
  account TEXT NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (account, type, id)
);

-- What the health check writes while writes fail, to see them work again.
CREATE TABLE store_probe (at BIGINT NOT NULL);

-- The webhook outbox (store/outbox-port.ts). An endpoint's account is its filter (NULL = all).
CREATE TABLE webhook_endpoint (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT[],
  account TEXT,
  source TEXT NOT NULL CHECK (source IN ('env', 'api')),
  created_at BIGINT NOT NULL,
  last_success_at BIGINT,
  last_failure_at BIGINT,
  last_error TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox_event (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  type TEXT NOT NULL,
  order_key TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
-- claimed_until: the lease of a claim (ms), so several processes share the table; NULL = free.
CREATE TABLE webhook_delivery (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_seq BIGINT NOT NULL,
  endpoint_id TEXT NOT NULL,
  order_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_error TEXT,
  last_status INTEGER,
  delivered_at BIGINT,
  claimed_until BIGINT
);
-- Pending rows only, as in SQLite: serves the claim (the head of each order key) and the backlog.
CREATE INDEX webhook_delivery_pending ON webhook_delivery (endpoint_id, order_key, id) WHERE status = 'pending';
`,
  },
  {
    version: 2,
    name: 'account registry',
    sql: `
-- The accounts the server links (POST /accounts) and reconnects at start; 'default' is always one.
CREATE TABLE account (
  id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  pos BIGINT GENERATED ALWAYS AS IDENTITY
);
INSERT INTO account (id, created_at) VALUES ('default', 0);
-- Accounts that already hold credentials are linked ones.
INSERT INTO account (id, created_at) SELECT account, 0 FROM auth_creds WHERE account <> 'default' ORDER BY account;
`,
  },
  {
    version: 3,
    name: 'campaigns',
    sql: `
-- Campaigns (one poll to many chats) and their chats in send order; a chat's poll id is
-- written before its send, so a restart re-sends that message instead of a second one.
CREATE TABLE campaign (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  question TEXT NOT NULL,
  options TEXT[] NOT NULL,
  selectable_count INTEGER NOT NULL,
  delay_min INTEGER NOT NULL,
  delay_max INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'done', 'cancelled')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (account, id)
);
CREATE TABLE campaign_chat (
  account TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  chat_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
  poll_msg_id TEXT,
  error TEXT,
  at BIGINT,
  PRIMARY KEY (account, campaign_id, idx)
);
`,
  },
  {
    version: 4,
    name: 'poll.vote records in the outbox',
    sql: `
-- A poll.vote event is committed as a compact record (store/outbox-port.ts packVote) instead of
-- its body, which a claim renders from the record and the poll's texts (outbox.ts). Every other
-- event, and every row written before, keeps its body: each row has exactly one of the two.
ALTER TABLE outbox_event ADD COLUMN vote TEXT;
ALTER TABLE outbox_event ALTER COLUMN body DROP NOT NULL;
ALTER TABLE outbox_event ADD CONSTRAINT outbox_event_body_or_vote CHECK ((body IS NULL) <> (vote IS NULL));
`,
  },
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

/** The first key of every advisory lock pollwire takes (the second names what is locked). */
export const LOCK_SPACE = 0x706f6c6c // 'poll'
/** Second keys of the lock space. */
export const LOCKS = { migrate: 1 } as const
/** The first key of the per-order-key locks of the outbox (the second is hashtext(order_key)). */
export const LOCK_SPACE_ORDER_KEY = 0x6f626f78 // 'obox'

/**
 * Brings `schema` to SCHEMA_VERSION: creates it when missing, then runs each migration not yet
 * recorded, each with its record in one transaction. Returns the versions it applied.
 */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  return tx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, LOCKS.migrate])
    await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await c.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
    const done = new Set((await c.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations`)).rows.map((r) => r.version))
    const newest = Math.max(0, ...done)
    if (newest > SCHEMA_VERSION) {
      throw new Error(`the database schema "${schema}" is at version ${newest}, newer than this pollwire knows (${SCHEMA_VERSION}): upgrade pollwire`)
    }
    const applied: number[] = []
    // Unqualified names in a migration land in the store's schema.
    await c.query(`SET LOCAL search_path TO "${schema}"`)
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      await c.query(m.sql)
      await c.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name])
      applied.push(m.version)
    }
    return applied
  })
}
