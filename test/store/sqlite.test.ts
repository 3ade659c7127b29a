import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys'
import { pino } from 'pino'
import { openDb } from '../../store/sqlite/db.ts'
import { openSqliteStore, type SqliteStore } from '../../store/sqlite/index.ts'
import { storeContract } from './contract.ts'

const log = pino({ level: 'silent' })

storeContract('SQLite store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-store-'))
  let store: SqliteStore = openSqliteStore({ dataDir: dir, log })
  return {
    get store() { return store },
    async reopen() {
      await store.close()
      return (store = openSqliteStore({ dataDir: dir, log }))
    },
    failWrites(on) {
      const db = store.db
      // SQLite's own SQLITE_FULL ("database or disk is full"), as a full disk gives it.
      const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count
      db.exec(`PRAGMA max_page_count = ${on ? pages : 1073741823}`)
    },
    async close() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

const files = suite('SQLite store: files')
let dir = ''
files.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'pollwire-sqlite-')) })
files.after.each(() => { rmSync(dir, { recursive: true, force: true }) })

files('one file for every account, 0600 in a 0700 DATA_DIR it created; account ids are checked', async () => {
  const sub = join(dir, 'data')
  const store = openSqliteStore({ dataDir: sub, log })
  store.account('shop')
  assert.is(statSync(sub).mode & 0o777, 0o700)
  assert.is(statSync(join(sub, 'pollwire.db')).mode & 0o777, 0o600)
  assert.throws(() => store.account('../etc'), /invalid account id/)
  await store.close()
})

files('a file of the first layout (one account, no account column) opens with everything under default', async () => {
  const db = openDb(dir)
  db.exec(`
    CREATE TABLE poll_record (id TEXT PRIMARY KEY, chat_id TEXT NOT NULL, question TEXT NOT NULL, options TEXT NOT NULL,
      option_hashes TEXT NOT NULL, selectable_count INTEGER NOT NULL, secret BLOB NOT NULL, created_at INTEGER NOT NULL,
      status TEXT NOT NULL, reason TEXT, creator_jid TEXT, updated_at INTEGER NOT NULL);
    CREATE TABLE vote_journal (seq INTEGER PRIMARY KEY, poll_id TEXT NOT NULL, payload_hash TEXT NOT NULL, msg_id TEXT,
      chat_id TEXT NOT NULL, remote_jid_alt TEXT, participant TEXT, participant_alt TEXT, from_me INTEGER NOT NULL,
      sender_ts INTEGER NOT NULL, enc_payload BLOB NOT NULL, enc_iv BLOB NOT NULL, source TEXT NOT NULL,
      received_at INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT, dup_of INTEGER, voter_key TEXT, creator_jid TEXT,
      voter_jid TEXT, selected TEXT, sel_mask INTEGER, confirmed INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX vote_journal_pending ON vote_journal (poll_id) WHERE state = 'pending';
    CREATE TABLE vote_person (lid TEXT PRIMARY KEY, pn TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE chats (id TEXT PRIMARY KEY, name TEXT, is_group INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE auth_creds (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
    CREATE TABLE auth_keys (type TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (type, id));
    INSERT INTO poll_record VALUES ('P1', 'c@g.us', 'Q', '["A"]', '["ha"]', 1, x'09', 1000, 'sent', NULL, NULL, 1000);
    INSERT INTO vote_journal (seq, poll_id, payload_hash, chat_id, from_me, sender_ts, enc_payload, enc_iv, source, received_at, state)
      VALUES (7, 'P1', 'h', 'c@g.us', 0, 1, x'01', x'02', 'notify', 2, 'pending');
    INSERT INTO vote_person VALUES ('5@lid', '7@s.whatsapp.net');
    INSERT INTO chats VALUES ('c@g.us', 'Team', 1, 1);
    INSERT INTO auth_creds VALUES (1, '{"me":{"id":"1@s.whatsapp.net"}}');
    INSERT INTO auth_keys VALUES ('lid-mapping', '15551110001', '"80000000001"');
  `)
  db.close()
  const store = openSqliteStore({ dataDir: dir, log })
  const a = store.account('default')
  assert.equal((await a.votes.polls()).map((p) => p.id), ['P1'])
  assert.equal((await a.votes.pending()).map((r) => r.seq), [7])
  assert.equal(await a.votes.persons(), [{ lid: '5@lid', pn: '7@s.whatsapp.net' }])
  assert.equal(await a.chats.all(), [{ id: 'c@g.us', name: 'Team' }])
  assert.is((await a.auth.load()).creds.me?.id, '1@s.whatsapp.net')
  assert.is(await a.auth.getLIDForPN('15551110001@s.whatsapp.net'), '80000000001@lid')
  assert.ok(a.votes.nextSeq() > 7, 'new journal numbers come after the old ones')
  assert.equal(await store.account('other').votes.polls(), [])
  assert.equal(await store.accounts(), ['default'])
  await store.close()
  const again = openSqliteStore({ dataDir: dir, log })
  assert.equal((await again.account('default').votes.polls()).map((p) => p.id), ['P1'], 'migrated once, opened again')
  await again.close()
})

files('a file of layout 2 (no account registry) registers default and every account with credentials, once', async () => {
  const first = openSqliteStore({ dataDir: dir, log })
  await first.account('shop').auth.saveCreds((await first.account('shop').auth.load()).creds)
  await first.account('default').votes.commit({ polls: [{ id: 'P1', chatId: 'c@g.us', question: 'Q', options: ['A'], hashes: ['ha'],
    selectableCount: 1, secret: new Uint8Array(32), timestamp: 1, status: 'sent' }] })
  first.db.exec('DROP TABLE account; PRAGMA user_version = 2')
  await first.close()
  const store = openSqliteStore({ dataDir: dir, log })
  assert.is((store.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 3)
  assert.equal(await store.accounts(), ['default', 'shop'])
  assert.equal((await store.account('default').votes.polls()).map((p) => p.id), ['P1'], 'nothing else changed')
  await store.removeAccount('shop', false)
  await store.close()
  const again = openSqliteStore({ dataDir: dir, log })
  assert.equal(await again.accounts(), ['default'], 'migrated once: a removed account stays removed')
  await again.close()
})

files('a group message that arrives after a later one from the same sender still decrypts', async () => {
  // Baileys writes sender-key records with plain JSON (a skipped message key's seed becomes
  // { type: 'Buffer', data: [...] }) and reads them with BufferJSON.reviver, which revives only
  // base64 data: the out-of-order message then failed with "Expected Buffer instead of: Object".
  const repo = async (s: SqliteStore) => {
    const state = await s.account('default').auth.load()
    const keys = addTransactionCapability(state.keys, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
    return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: state.creds, keys }, log, async () => [])
  }
  const group = '120363000000000001@g.us'
  const author = '80000000001@lid'
  const senderStore = openSqliteStore({ dataDir: join(dir, 'sender'), log })
  const receiverStore = openSqliteStore({ dataDir: join(dir, 'receiver'), log })
  const sender = await repo(senderStore)
  const receiver = await repo(receiverStore)
  const sent: Array<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }> = []
  for (const text of ['one', 'two', 'three']) sent.push(await sender.encryptGroupMessage({ group, meId: author, data: Buffer.from(text) }))
  await receiver.processSenderKeyDistributionMessage({
    authorJid: author, item: { groupId: group, axolotlSenderKeyDistributionMessage: sent[0]!.senderKeyDistributionMessage },
  })
  const open = async (i: number) => Buffer.from(await receiver.decryptGroupMessage({ group, authorJid: author, msg: sent[i]!.ciphertext })).toString()
  assert.is(await open(2), 'three')
  assert.is(await open(0), 'one')
  assert.is(await open(1), 'two')
  await senderStore.close()
  await receiverStore.close()
})

files('a LID↔PN pair is reported after its transaction committed', async () => {
  const store = openSqliteStore({ dataDir: dir, log })
  const db = store.db
  const seen: boolean[] = []
  store.account('default').auth.onLidMapping(() => seen.push(db.inTransaction))
  await (await store.account('default').auth.load()).keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
  assert.equal(seen, [false])
  await store.close()
})

files.run()
