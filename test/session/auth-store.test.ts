import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys'
import { pino } from 'pino'
import { createAuthStore } from '../../session/auth-store.ts'
import { openDb, openMemoryDb } from '../../session/db.ts'

const auth = suite('createAuthStore')
let dir = ''
auth.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'pollwire-auth-')) })
auth.after.each(() => { rmSync(dir, { recursive: true, force: true }) })

auth('fresh creds until saved; saved creds and Buffers survive a reopen', async () => {
  const db = openDb(dir)
  const store = createAuthStore(db)
  assert.not.ok(store.isRegistered())
  const state = store.load()
  state.creds.me = { id: '15550000001:2@s.whatsapp.net', lid: '900000000000001:2@lid' }
  store.saveCreds(state.creds)
  await state.keys.set({ session: { 'a.0': new Uint8Array([1, 2, 3]) }, 'pre-key': { '1': { public: new Uint8Array([9]), private: new Uint8Array([8]) } } })
  db.close()

  const again = createAuthStore(openDb(dir))
  assert.ok(again.isRegistered())
  const loaded = again.load()
  assert.is(loaded.creds.me?.id, '15550000001:2@s.whatsapp.net')
  assert.equal(Buffer.from(loaded.creds.noiseKey.private), Buffer.from(state.creds.noiseKey.private))
  const got = await loaded.keys.get('session', ['a.0', 'missing'])
  assert.equal([...got['a.0']!], [1, 2, 3])
  assert.not.ok('missing' in got)
  const pk = await loaded.keys.get('pre-key', ['1'])
  assert.equal([...pk['1']!.public], [9])
})

auth('null deletes a key; clear forgets everything', async () => {
  const store = createAuthStore(openDb(dir))
  const state = store.load()
  state.creds.me = { id: '1@s.whatsapp.net' }
  store.saveCreds(state.creds)
  await state.keys.set({ session: { x: new Uint8Array([1]), y: new Uint8Array([2]) } })
  await state.keys.set({ session: { x: null } })
  assert.equal(Object.keys(await state.keys.get('session', ['x', 'y'])), ['y'])
  store.clear()
  assert.not.ok(store.isRegistered())
  assert.equal(await store.load().keys.get('session', ['y']), {})
})

auth('LID↔PN lookups read the mapping keys Baileys writes', async () => {
  const store = createAuthStore(openDb(dir))
  await store.load().keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
  assert.is(await store.lidMapping.getLIDForPN('15551110001:3@s.whatsapp.net'), '80000000001@lid')
  assert.is(await store.lidMapping.getPNForLID('80000000001@lid'), '15551110001@s.whatsapp.net')
  assert.is(await store.lidMapping.getPNForLID('1@lid'), null)
})

auth('a group message that arrives after a later one from the same sender still decrypts', async () => {
  // Baileys writes sender-key records with plain JSON (a skipped message key's seed becomes
  // { type: 'Buffer', data: [...] }) and reads them with BufferJSON.reviver, which revives only
  // base64 data: the out-of-order message then failed with "Expected Buffer instead of: Object".
  const log = pino({ level: 'silent' })
  const repo = (store: ReturnType<typeof createAuthStore>) => {
    const state = store.load()
    const keys = addTransactionCapability(state.keys, log, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
    return DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: state.creds, keys }, log, async () => [])
  }
  const group = '120363000000000001@g.us'
  const author = '80000000001@lid'
  const sender = repo(createAuthStore(openMemoryDb()))
  const receiver = repo(createAuthStore(openDb(dir)))
  const sent: Array<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }> = []
  for (const text of ['one', 'two', 'three']) sent.push(await sender.encryptGroupMessage({ group, meId: author, data: Buffer.from(text) }))
  await receiver.processSenderKeyDistributionMessage({
    authorJid: author, item: { groupId: group, axolotlSenderKeyDistributionMessage: sent[0]!.senderKeyDistributionMessage },
  })
  const open = async (i: number) => Buffer.from(await receiver.decryptGroupMessage({ group, authorJid: author, msg: sent[i]!.ciphertext })).toString()
  assert.is(await open(2), 'three')
  assert.is(await open(0), 'one')
  assert.is(await open(1), 'two')
})

auth('a write that stores new LID↔PN pairs is reported with both JIDs, after it committed', async () => {
  const seen: Array<{ lid: string; pn: string }> = []
  const db = openMemoryDb()
  const store = createAuthStore(db, { onLidMapping: (pairs) => {
    assert.is(db.inTransaction, false, 'reported after the commit')
    seen.push(...pairs)
  } })
  const keys = store.load().keys
  await keys.set({ 'lid-mapping': { '15551110001': '80000000001', '80000000001_reverse': '15551110001' } })
  await keys.set({ 'pre-key': { '1': { public: new Uint8Array(32), private: new Uint8Array(32) } } })
  assert.equal(seen, [{ pn: '15551110001@s.whatsapp.net', lid: '80000000001@lid' }])
  assert.is(await store.lidMapping.getPNForLID('80000000001@lid'), '15551110001@s.whatsapp.net')
})

auth('the data dir is 0700 and the database 0600', () => {
  const sub = join(dir, 'data')
  openDb(sub).close()
  assert.is(statSync(sub).mode & 0o777, 0o700)
  assert.is(statSync(join(sub, 'pollwire.db')).mode & 0o777, 0o600)
})

auth.run()
