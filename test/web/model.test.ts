import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  accountFromSearch, accountIdProblem, accountIdRule, accountLabel, accountNamespace, accountPath,
  applyUpdate, chatLabel, displayJid, failureText, filterChats, limitsFrom, optionRows, pollRequest, sortPolls, voterRows,
} from '../../web/app/model.js'
import { samplePoll } from '../fakes.ts'

import { MAX_OPTION_LENGTH, MAX_OPTIONS, MAX_QUESTION } from '../../contract/limits.ts'
import { openApiDocument } from '../../handlers/lib/openapi.ts'

/** What the dashboard reads from GET /openapi.json. */
const limits = limitsFrom(JSON.parse(JSON.stringify(openApiDocument)))

const model = suite('web/app/model')

model('applyUpdate folds the live payload into the poll we have, keeps what it lacks', () => {
  const poll = samplePoll()
  const next = applyUpdate(poll, {
    pollMsgId: 'P1', question: 'Colour?', options: ['Red', 'Blue'], selectableCount: 1,
    results: { Red: 1, Blue: 1 }, voters: { a: ['aa'], b: ['bb'] },
  })
  assert.equal(next?.results, { Red: 1, Blue: 1 })
  assert.equal(next?.optionHashes, poll.optionHashes)
  assert.is(next?.chatId, poll.chatId)
  assert.is(applyUpdate(undefined, { pollMsgId: 'X', question: '', options: [], selectableCount: 1, results: {}, voters: {} }), undefined)
})

model('optionRows: in option order, share of the voters', () => {
  const poll = samplePoll({ options: ['Red', 'Blue', 'Green'], results: { Red: 2, Blue: 1 }, voters: { a: ['aa'], b: ['aa', 'bb'] }, selectableCount: 0 })
  assert.equal(optionRows(poll), [
    { option: 'Red', votes: 2, share: 1 },
    { option: 'Blue', votes: 1, share: 0.5 },
    { option: 'Green', votes: 0, share: 0 },
  ])
  assert.equal(optionRows(samplePoll({ voters: {}, results: {} })).map((r) => r.share), [0, 0])
})

model('voterRows: texts in option order, unknown hashes named, voters sorted', () => {
  const poll = samplePoll({ voters: { z: ['bb', 'aa'], a: ['ff00ff00ff'] } })
  assert.equal(voterRows(poll), [
    { voter: 'a', choices: ['unknown option ff00ff00'] },
    { voter: 'z', choices: ['Red', 'Blue'] },
  ])
})

model('sortPolls: newest first', () => {
  const ids = sortPolls({ A: samplePoll({ timestamp: 1 }), B: samplePoll({ timestamp: 3 }), C: samplePoll({ timestamp: 2 }) }).map(([id]) => id)
  assert.equal(ids, ['B', 'C', 'A'])
})

model('displayJid and chatLabel', () => {
  assert.is(displayJid('15551110001:12@s.whatsapp.net'), '+15551110001')
  assert.is(displayJid('123456789@lid'), '123456789 (LID)')
  assert.is(displayJid('120363000000000001@g.us'), '120363000000000001@g.us')
  assert.is(chatLabel({ id: '1@g.us', name: 'Team', isGroup: true }), 'Team (Group)')
  assert.is(chatLabel({ id: '15551110001@s.whatsapp.net', name: '', isGroup: false }), '+15551110001 (Contact)')
})

model('filterChats by name or id, case-insensitive', () => {
  const chats = [{ id: '1@g.us', name: 'Team', isGroup: true }, { id: '155@s.whatsapp.net', name: 'Ann', isGroup: false }]
  assert.equal(filterChats(chats, ' team ').map((c) => c.id), ['1@g.us'])
  assert.equal(filterChats(chats, '155').map((c) => c.name), ['Ann'])
  assert.is(filterChats(chats, '').length, 2)
})

model('limitsFrom reads the limits from the served OpenAPI document', () => {
  assert.equal(limits, { question: MAX_QUESTION, options: MAX_OPTIONS, optionLength: MAX_OPTION_LENGTH })
  assert.throws(() => limitsFrom({}), /limits/)
})

model('pollRequest: the server body, or the first problem', () => {
  const ok = pollRequest({ chatId: '1@g.us', question: ' Q? ', options: [' A ', '', 'B'], multi: true }, limits)
  assert.equal(ok, { ok: true, body: { chatId: '1@g.us', question: 'Q?', options: ['A', 'B'], allowMultipleAnswers: true } })
  const fail = (f: Parameters<typeof pollRequest>[0]) => { const r = pollRequest(f, limits); return r.ok ? null : r.field }
  assert.is(fail({ chatId: '', question: 'Q', options: ['A'], multi: false }), 'chat')
  assert.is(fail({ chatId: 'c', question: '  ', options: ['A'], multi: false }), 'question')
  assert.is(fail({ chatId: 'c', question: 'x'.repeat(256), options: ['A'], multi: false }), 'question')
  assert.is(fail({ chatId: 'c', question: 'Q', options: ['', ' '], multi: false }), 'options')
  assert.is(fail({ chatId: 'c', question: 'Q', options: Array.from({ length: 13 }, (_, i) => `o${i}`), multi: false }), 'options')
  assert.is(fail({ chatId: 'c', question: 'Q', options: ['A', 'A '], multi: false }), 'options')
  assert.is(fail({ chatId: 'c', question: 'Q', options: ['x'.repeat(101)], multi: false }), 'options')
})

model('failureText: message, with details when given', () => {
  assert.is(failureText({ success: false, message: 'WhatsApp did not accept the poll', error: 'timed out' }, 502), 'WhatsApp did not accept the poll (timed out)')
  assert.is(failureText({ success: false, message: 'bad' }, 400), 'bad')
  assert.is(failureText(null, 500), 'The server answered 500.')
})

model('accounts: paths and namespaces follow the account, default keeps the plain ones', () => {
  assert.is(accountPath('default', '/status'), '/status')
  assert.is(accountPath('shop', '/polls/P%2F1/votes'), '/accounts/shop/polls/P%2F1/votes')
  assert.is(accountNamespace('default'), '/')
  assert.is(accountNamespace('shop_2'), '/accounts/shop_2')
})

model("accounts: the id rule is the server's, from its API description", () => {
  const rule = accountIdRule(JSON.parse(JSON.stringify(openApiDocument)))
  assert.is(accountIdProblem('shop-1_b', rule, ['default']), null)
  assert.match(accountIdProblem('', rule, []) ?? '', /name/)
  for (const bad of ['Shop', 'a b', 'x'.repeat(33), 'é']) assert.match(accountIdProblem(bad, rule, []) ?? '', /lower-case/, bad)
  assert.match(accountIdProblem('shop', rule, ['default', 'shop']) ?? '', /already/)
  assert.is(accountFromSearch('?account=shop', rule), 'shop')
  assert.is(accountFromSearch('?account=../x', rule), 'default')
  assert.is(accountFromSearch('', rule), 'default')
  assert.throws(() => accountIdRule({}), /account ids/)
})

model('accounts: labels say the state, and who is linked', () => {
  assert.is(accountLabel({ id: 'shop', status: 'ready', user: { id: '15550000002:3@s.whatsapp.net', name: 'Shop' } }), 'shop — linked as Shop (+15550000002)')
  assert.is(accountLabel({ id: 'shop', status: 'qr_pending', user: null }), 'shop — waiting for a scan')
  assert.is(accountLabel({ id: 'x', status: 'weird', user: null }), 'x — weird')
})

model.run()
