import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChatStore } from '../../session/chat-store.ts'
import { openDb, openMemoryDb } from '../../session/db.ts'

const chats = suite('createChatStore')

chats('groups and people sorted by name, nameless people by number', () => {
  const store = createChatStore(openMemoryDb())
  store.upsert([
    { id: '120363000000000002@g.us', name: 'zeta group' },
    { id: '15551110002@s.whatsapp.net' },
    { id: '15551110001@s.whatsapp.net', name: 'Alice' },
    { id: '120363000000000001@g.us', name: 'Book club' },
  ])
  assert.equal(store.list(), [
    { id: '15551110002@s.whatsapp.net', name: '+15551110002', isGroup: false },
    { id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false },
    { id: '120363000000000001@g.us', name: 'Book club', isGroup: true },
    { id: '120363000000000002@g.us', name: 'zeta group', isGroup: true },
  ])
})

chats('a later nameless sighting keeps the known name; a new name replaces it', () => {
  const store = createChatStore(openMemoryDb())
  store.upsert([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }])
  store.upsert([{ id: '15551110001@s.whatsapp.net', name: null }])
  assert.is(store.list()[0]!.name, 'Alice')
  store.upsert([{ id: '15551110001@s.whatsapp.net', name: 'Alice B.' }])
  assert.is(store.list()[0]!.name, 'Alice B.')
})

chats('ignores broadcasts, status and newsletters', () => {
  const store = createChatStore(openMemoryDb())
  store.upsert([{ id: 'status@broadcast' }, { id: '123@newsletter' }, { id: '1234@broadcast' }])
  assert.equal(store.list(), [])
})

chats('persists across a reopen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pollwire-chats-'))
  try {
    const db = openDb(dir)
    createChatStore(db).upsert([{ id: '120363000000000001@g.us', name: 'Team' }])
    db.close()
    assert.equal(createChatStore(openDb(dir)).list(), [{ id: '120363000000000001@g.us', name: 'Team', isGroup: true }])
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

chats('a known chat seen again writes nothing; a new name or a new chat does', () => {
  const db = openMemoryDb()
  let t = 1
  const store = createChatStore(db, { now: () => t })
  const stamp = (id: string) => (db.prepare('SELECT updated_at FROM chats WHERE id = ?').get(id) as { updated_at: number }).updated_at
  store.upsert([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }, { id: '120363000000000001@g.us' }])
  t = 2
  store.upsert([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }, { id: '15551110001@s.whatsapp.net' }, { id: '120363000000000001@g.us' }])
  assert.is(stamp('15551110001@s.whatsapp.net'), 1, 'same name: no write')
  assert.is(stamp('120363000000000001@g.us'), 1, 'no name: no write')
  store.upsert([{ id: '120363000000000001@g.us', name: 'Team' }, { id: '15551110002@s.whatsapp.net' }])
  assert.is(stamp('120363000000000001@g.us'), 2)
  assert.is(stamp('15551110002@s.whatsapp.net'), 2)
  store.clear()
  store.upsert([{ id: '15551110001@s.whatsapp.net' }])
  assert.equal(store.list(), [{ id: '15551110001@s.whatsapp.net', name: '+15551110001', isGroup: false }], 'cleared chats are written again')
})

chats.run()

const canon = suite('createChatStore canonical ids')
canon('a LID chat is listed under its phone number; our own account is left out', () => {
  const store = createChatStore(openMemoryDb(), {
    canonical: (jid) => (jid === '15550000001@s.whatsapp.net' ? null : jid === '80000000001@lid' ? '15551110001@s.whatsapp.net' : jid),
  })
  store.upsert([{ id: '80000000001@lid', name: 'Alice' }, { id: '15551110001@s.whatsapp.net' }, { id: '15550000001@s.whatsapp.net', name: 'Me' }])
  assert.equal(store.list(), [{ id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false }])
})
canon.run()

const late = suite('createChatStore late mapping')
late('a LID row stored before its mapping merges with the phone-number row once known', () => {
  const map = new Map<string, string>()
  const store = createChatStore(openMemoryDb(), { canonical: (jid) => map.get(jid) ?? jid })
  store.upsert([{ id: '80000000001@lid', name: 'Alice' }])
  map.set('80000000001@lid', '15551110001@s.whatsapp.net')
  store.upsert([{ id: '15551110001@s.whatsapp.net' }])
  assert.equal(store.list(), [{ id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false }])
})
late.run()
