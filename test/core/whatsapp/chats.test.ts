import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pino } from 'pino'
import { createChatList } from '../../../core/whatsapp/chats.ts'
import type { ChatRow, ChatTable } from '../../../store/ports.ts'
import { createMemoryStore } from '../../../store/memory/index.ts'

const log = pino({ level: 'silent' })

/** A chat table that records what is written to it. */
function recordingTable(): ChatTable & { writes: ChatRow[][] } {
  const table = createMemoryStore().account('default').chats
  const writes: ChatRow[][] = []
  return { ...table, writes, async upsert(rows) { writes.push(rows); await table.upsert(rows) } }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

const chats = suite('createChatList')

chats('groups and people sorted by name, nameless people by number', () => {
  const list = createChatList({ table: recordingTable(), chatId: (jid) => jid, log })
  list.see([
    { id: '120363000000000002@g.us', name: 'zeta group' },
    { id: '15551110002@s.whatsapp.net' },
    { id: '15551110001@s.whatsapp.net', name: 'Alice' },
    { id: '120363000000000001@g.us', name: 'Book club' },
  ])
  assert.equal(list.list(), [
    { id: '15551110002@s.whatsapp.net', name: '+15551110002', isGroup: false },
    { id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false },
    { id: '120363000000000001@g.us', name: 'Book club', isGroup: true },
    { id: '120363000000000002@g.us', name: 'zeta group', isGroup: true },
  ])
})

chats('a later nameless sighting keeps the known name; a new name replaces it', () => {
  const list = createChatList({ table: recordingTable(), chatId: (jid) => jid, log })
  list.see([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }])
  list.see([{ id: '15551110001@s.whatsapp.net', name: null }])
  assert.is(list.list()[0]!.name, 'Alice')
  list.see([{ id: '15551110001@s.whatsapp.net', name: 'Alice B.' }])
  assert.is(list.list()[0]!.name, 'Alice B.')
})

chats('ignores broadcasts, status and newsletters', () => {
  const list = createChatList({ table: recordingTable(), chatId: (jid) => jid, log })
  list.see([{ id: 'status@broadcast' }, { id: '123@newsletter' }, { id: '1234@broadcast' }])
  assert.equal(list.list(), [])
})

chats('what the table holds is listed after a restart', async () => {
  const table = recordingTable()
  const first = createChatList({ table, chatId: (jid) => jid, log })
  first.see([{ id: '120363000000000001@g.us', name: 'Team' }])
  await settle()
  const again = createChatList({ table, chatId: (jid) => jid, log })
  await again.load()
  assert.equal(again.list(), [{ id: '120363000000000001@g.us', name: 'Team', isGroup: true }])
})

chats('a known chat seen again writes nothing; a new name or a new chat does', async () => {
  const table = recordingTable()
  const list = createChatList({ table, chatId: (jid) => jid, log })
  list.see([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }, { id: '120363000000000001@g.us' }])
  list.see([{ id: '15551110001@s.whatsapp.net', name: 'Alice' }, { id: '15551110001@s.whatsapp.net' }, { id: '120363000000000001@g.us' }])
  await settle()
  assert.is(table.writes.length, 1, 'same name, or no name: no write')
  list.see([{ id: '120363000000000001@g.us', name: 'Team' }, { id: '15551110002@s.whatsapp.net' }])
  await settle()
  assert.equal(table.writes[1], [{ id: '120363000000000001@g.us', name: 'Team' }, { id: '15551110002@s.whatsapp.net', name: null }])
  await list.clear()
  list.see([{ id: '15551110001@s.whatsapp.net' }])
  assert.equal(list.list(), [{ id: '15551110001@s.whatsapp.net', name: '+15551110001', isGroup: false }], 'cleared chats are written again')
})

chats.run()

const canon = suite('createChatList: listed ids')
canon('a LID chat is listed under its phone number; our own account is left out', () => {
  const list = createChatList({
    table: recordingTable(), log,
    chatId: (jid) => (jid === '15550000001@s.whatsapp.net' ? null : jid === '80000000001@lid' ? '15551110001@s.whatsapp.net' : jid),
  })
  list.see([{ id: '80000000001@lid', name: 'Alice' }, { id: '15551110001@s.whatsapp.net' }, { id: '15550000001@s.whatsapp.net', name: 'Me' }])
  assert.equal(list.list(), [{ id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false }])
})

canon('a LID row kept before its mapping merges with the phone-number row once known', () => {
  const map = new Map<string, string>()
  const list = createChatList({ table: recordingTable(), chatId: (jid) => map.get(jid) ?? jid, log })
  list.see([{ id: '80000000001@lid', name: 'Alice' }])
  map.set('80000000001@lid', '15551110001@s.whatsapp.net')
  list.see([{ id: '15551110001@s.whatsapp.net' }])
  assert.equal(list.list(), [{ id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false }])
})
canon.run()
