import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { sendPoll } from '../../handlers/send-poll.ts'
import { fakeCtx, fakeSession, invoke, post } from '../fakes.ts'

const POST = suite('POST /send-poll')
const good = { chatId: '120363000000000001@g.us', question: 'Lunch?', options: ['Pizza', 'Sushi'], allowMultipleAnswers: false }

POST('sends a valid poll and answers with its id', async () => {
  const session = fakeSession()
  const res = await invoke(sendPoll, post('/send-poll', good), fakeCtx({ session }))
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, message: 'Poll sent successfully!', pollMsgId: 'POLL1' })
  assert.equal(session.calls.sendPoll, [{ chatId: good.chatId, question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 }])
})

POST('allowMultipleAnswers true means selectableCount 0; trims texts', async () => {
  const session = fakeSession()
  await invoke(sendPoll, post('/send-poll', { ...good, question: '  Lunch? ', options: [' A ', 'B'], allowMultipleAnswers: true }), fakeCtx({ session }))
  assert.equal(session.calls.sendPoll[0], { chatId: good.chatId, question: 'Lunch?', options: ['A', 'B'], selectableCount: 0 })
})

POST('accepts a single option (the GUI allows one) and person and LID chats', async () => {
  for (const chatId of ['15551234567@s.whatsapp.net', '123456789012345@lid']) {
    const res = await invoke(sendPoll, post('/send-poll', { ...good, chatId, options: ['Only'] }))
    assert.is(res.status, 200, chatId)
  }
})

const invalid: Array<[string, unknown, string]> = [
  ['missing chatId', { ...good, chatId: undefined }, 'chatId'],
  ['chatId not a JID', { ...good, chatId: 'bob' }, 'chatId'],
  ['chatId broadcast', { ...good, chatId: 'status@broadcast' }, 'chatId'],
  ['question empty after trim', { ...good, question: '   ' }, 'question'],
  ['question not a string', { ...good, question: 7 }, 'question'],
  ['question too long', { ...good, question: 'x'.repeat(256) }, 'question'],
  ['options not an array', { ...good, options: 'A,B' }, 'options'],
  ['no options', { ...good, options: [] }, 'options'],
  ['13 options', { ...good, options: Array.from({ length: 13 }, (_, i) => `o${i}`) }, 'options'],
  ['duplicate options', { ...good, options: ['A', 'A '] }, 'options'],
  ['empty option', { ...good, options: ['A', ' '] }, 'options'],
  ['non-string option', { ...good, options: ['A', 2] }, 'options'],
  ['option too long', { ...good, options: ['A', 'b'.repeat(101)] }, 'options'],
  ['allowMultipleAnswers not boolean', { ...good, allowMultipleAnswers: 'yes' }, 'allowMultipleAnswers'],
]
for (const [name, body, field] of invalid) {
  POST(`400 naming ${field}: ${name}`, async () => {
    const session = fakeSession()
    const res = await invoke(sendPoll, post('/send-poll', body), fakeCtx({ session }))
    assert.is(res.status, 400)
    assert.is(res.body.success, false)
    assert.ok(res.body.message.startsWith(field), res.body.message)
    assert.is(session.calls.sendPoll.length, 0)
  })
}

POST('400 for malformed JSON, 415 for a non-JSON type, 400 for an array body', async () => {
  assert.is((await invoke(sendPoll, post('/send-poll', '{"chatId":'))).status, 400)
  assert.is((await invoke(sendPoll, post('/send-poll', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }))).status, 415)
  assert.is((await invoke(sendPoll, post('/send-poll', '[1]'))).status, 400)
})

POST('503 when WhatsApp is not ready, nothing sent', async () => {
  const session = fakeSession({ status: 'qr_pending' })
  const res = await invoke(sendPoll, post('/send-poll', good), fakeCtx({ session }))
  assert.is(res.status, 503)
  assert.is(res.body.success, false)
  assert.is(session.calls.sendPoll.length, 0)
})

POST('502 with the reason when WhatsApp refuses', async () => {
  const res = await invoke(sendPoll, post('/send-poll', good), fakeCtx({ session: fakeSession({ fail: new Error('not-authorized') }) }))
  assert.is(res.status, 502)
  assert.equal(res.body, { success: false, message: 'WhatsApp did not accept the poll', error: 'not-authorized' })
})

POST.run()
