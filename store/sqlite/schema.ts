import { tx, type Db } from './db.ts'

/**
 * Every table of the embedded store, one database file for all accounts (each row carries its
 * account, as PostgreSQL's will). `migrate` brings a file of any earlier layout to this one,
 * once, in one transaction; PRAGMA user_version records where a file stands.
 */
export const SCHEMA_VERSION = 3

const TABLES = `
CREATE TABLE IF NOT EXISTS poll_record (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL DEFAULT 'default',
  chat_id TEXT NOT NULL,
  question TEXT NOT NULL,
  options TEXT NOT NULL,
  option_hashes TEXT NOT NULL,
  selectable_count INTEGER NOT NULL,
  secret BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  creator_jid TEXT,
  updated_at INTEGER NOT NULL
);
-- One row per sighting of a vote, raw as it came off the wire, plus what was derived from
-- it. Journal numbers are unique in the file, whatever the account. No index on poll_id: the
-- engine keeps each poll's first and last journal number and reads its rows in that range of
-- the primary key, and such an index would cost a third of the insert rate of the vote path.
CREATE TABLE IF NOT EXISTS vote_journal (
  seq INTEGER PRIMARY KEY,
  account TEXT NOT NULL DEFAULT 'default',
  poll_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL,
  msg_id TEXT,
  chat_id TEXT NOT NULL,
  remote_jid_alt TEXT,
  participant TEXT,
  participant_alt TEXT,
  from_me INTEGER NOT NULL,
  sender_ts INTEGER NOT NULL,
  enc_payload BLOB NOT NULL,
  enc_iv BLOB NOT NULL,
  source TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  dup_of INTEGER,
  voter_key TEXT,
  creator_jid TEXT,
  voter_jid TEXT,
  selected TEXT,
  sel_mask INTEGER,
  confirmed INTEGER NOT NULL DEFAULT 0
);
-- Merged persons: a LID whose votes were counted before its phone number was known. A
-- restart folds those votes into the phone number's without asking Baileys again.
CREATE TABLE IF NOT EXISTS vote_person (
  account TEXT NOT NULL,
  lid TEXT NOT NULL,
  pn TEXT NOT NULL,
  PRIMARY KEY (account, lid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chats (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT,
  is_group INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account, id)
);
-- Campaigns (one poll to many chats) and their chats in send order; a chat's poll id is
-- written before its send, so a restart re-sends that message instead of a second one.
CREATE TABLE IF NOT EXISTS campaign (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  question TEXT NOT NULL,
  options TEXT NOT NULL,
  selectable_count INTEGER NOT NULL,
  delay_min INTEGER NOT NULL,
  delay_max INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account, id)
);
CREATE TABLE IF NOT EXISTS campaign_chat (
  account TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  chat_id TEXT NOT NULL,
  state TEXT NOT NULL,
  poll_msg_id TEXT,
  error TEXT,
  at INTEGER,
  PRIMARY KEY (account, campaign_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_creds (account TEXT PRIMARY KEY, json TEXT NOT NULL);
-- The accounts the server links (POST /accounts) and reconnects at start; 'default' is always one.
CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_keys (
  account TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (account, type, id)
);
`

// Pending rows only (a partial index costs nothing for the others): what a retry reads back.
const INDEXES = `
CREATE INDEX IF NOT EXISTS vote_journal_pending_by_account ON vote_journal (account, poll_id) WHERE state = 'pending';
`

const columns = (db: Db, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name)

/** Tables of the first layout (one account, no account column) that must be rebuilt with one. */
const REBUILT: Record<string, string> = {
  vote_person: `INSERT INTO vote_person (account, lid, pn) SELECT 'default', lid, pn FROM old_vote_person`,
  chats: `INSERT INTO chats (account, id, name, is_group, updated_at) SELECT 'default', id, name, is_group, updated_at FROM old_chats`,
  auth_creds: `INSERT INTO auth_creds (account, json) SELECT 'default', json FROM old_auth_creds`,
  auth_keys: `INSERT INTO auth_keys (account, type, id, json) SELECT 'default', type, id, json FROM old_auth_keys`,
}

/**
 * The webhook outbox's tables are created by the outbox (store/sqlite/outbox.ts); a file made
 * before poll.vote events were kept as records until claimed has outbox_event without `vote`.
 * The column is added (NULL in every existing row, which keeps its body: its pending deliveries
 * are sent as they were). Checked at every open: one PRAGMA, whatever user_version says.
 */
function migrateOutbox(db: Db): void {
  const cols = columns(db, 'outbox_event')
  if (cols.length && !cols.includes('vote')) db.exec('ALTER TABLE outbox_event ADD COLUMN vote TEXT')
}

/** Creates what is missing and converts an older layout; idempotent. */
export function migrate(db: Db): void {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version >= SCHEMA_VERSION) {
    db.exec(TABLES + INDEXES)
    migrateOutbox(db)
    return
  }
  tx(db, () => {
    // Layout 1: the same tables without `account`; everything in them belongs to `default`.
    for (const table of ['poll_record', 'vote_journal']) {
      const cols = columns(db, table)
      if (cols.length && !cols.includes('account')) db.exec(`ALTER TABLE ${table} ADD COLUMN account TEXT NOT NULL DEFAULT 'default'`)
    }
    const rebuild = Object.keys(REBUILT).filter((t) => { const c = columns(db, t); return c.length && !c.includes('account') })
    for (const t of rebuild) db.exec(`ALTER TABLE ${t} RENAME TO old_${t}`)
    db.exec('DROP INDEX IF EXISTS vote_journal_pending')
    db.exec(TABLES + INDEXES)
    for (const t of rebuild) db.exec(`${REBUILT[t]}; DROP TABLE old_${t};`)
    // Layout 2 had no account registry: 'default', and any account holding credentials, are registered.
    db.exec(`INSERT OR IGNORE INTO account (id, created_at) VALUES ('default', 0);
      INSERT OR IGNORE INTO account (id, created_at) SELECT account, 0 FROM auth_creds ORDER BY account;`)
    migrateOutbox(db)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
  })
}
