import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { getChats } from '../../handlers/get-chats.ts'
import { fakeCtx, fakeSession, get, invoke } from '../fakes.ts'

const GET = suite('GET /get-chats')

GET('lists the session chats as the GUI reads them', async () => {
  const chats = [{ id: '1@g.us', name: 'A team', isGroup: true }, { id: '15551110001@s.whatsapp.net', name: 'Bob', isGroup: false }]
  const res = await invoke(getChats, get('/get-chats'), fakeCtx({ session: fakeSession({ chats }) }))
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, chats })
})

GET('405 for POST', async () => {
  const res = await invoke(getChats, new Request('http://localhost/get-chats', { method: 'POST' }), fakeCtx(), '/get-chats')
  assert.is(res.status, 405)
})

GET.run()
