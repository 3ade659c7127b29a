import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys'
import { pino } from 'pino'
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
      const db = store.db('default')
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

files('one file per account, 0600 in a 0700 DATA_DIR it created', async () => {
  const sub = join(dir, 'data')
  const store = openSqliteStore({ dataDir: sub, log })
  store.account('shop')
  assert.is(statSync(sub).mode & 0o777, 0o700)
  assert.is(statSync(join(sub, 'pollwire.db')).mode & 0o777, 0o600)
  assert.is(statSync(join(sub, 'pollwire-shop.db')).mode & 0o777, 0o600)
  assert.throws(() => store.account('../etc'), /invalid account id/)
  await store.close()
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
  const db = store.db('default')
  const seen: boolean[] = []
  store.account('default').auth.onLidMapping(() => seen.push(db.inTransaction))
  await (await store.account('default').auth.load()).keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
  assert.equal(seen, [false])
  await store.close()
})

files.run()
