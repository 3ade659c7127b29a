import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { campaignDone, campaignProgress, pollSent, pollVote, pollVoteRejected, sessionStatus } from '../../core/webhooks/events.ts'
import { newId } from '../../core/webhooks/ids.ts'
import type { PollView } from '../../contract/polls.ts'

const AT = Date.UTC(2026, 10, 25, 12, 0, 0, 123)
const poll: PollView = {
  question: 'Colour?', options: ['Red', 'Blue'], optionHashes: { aa: 'Red', bb: 'Blue' }, results: { Red: 1, Blue: 0 },
  voters: { '15551110001@s.whatsapp.net': ['aa'] }, chatId: '120363000000000001@g.us', timestamp: 1732470000000, selectableCount: 1,
}
const events = suite('webhook events')

events('poll.sent carries account, pollMsgId and the whole poll', () => {
  const e = pollSent({ account: 'default', pollMsgId: 'P1', poll }, AT)
  assert.equal(JSON.parse(e.body), { type: 'poll.sent', timestamp: '2026-11-25T12:00:00.123Z', data: { account: 'default', pollMsgId: 'P1', poll } })
  assert.equal([e.type, e.account, e.orderKey, e.createdAt], ['poll.sent', 'default', 'poll:P1', AT])
})

events('poll.vote: selected and previous as option texts, voterName only when known', () => {
  const base = {
    account: 'shop', pollMsgId: 'P1', voter: '15551110001@s.whatsapp.net', selected: ['Red'], previous: ['Blue'],
    senderTimestampMs: AT - 5, results: { Red: 1, Blue: 0 }, question: 'Colour?',
  }
  const e = pollVote(base, AT)
  assert.equal(JSON.parse(e.body), { type: 'poll.vote', timestamp: new Date(AT).toISOString(), data: base })
  assert.not.ok('voterName' in JSON.parse(e.body).data)
  const named = JSON.parse(pollVote({ ...base, voterName: 'Ann', selected: [], previous: null }, AT).body)
  assert.equal([named.data.voterName, named.data.selected, named.data.previous], ['Ann', [], null])
  assert.equal(Object.keys(named.data), ['account', 'pollMsgId', 'voter', 'voterName', 'selected', 'previous', 'senderTimestampMs', 'results', 'question'])
  assert.is(e.orderKey, 'poll:P1', 'votes of one poll share the order key of the poll')
})

events('poll.vote.rejected and session.status', () => {
  const r = pollVoteRejected({ account: 'default', pollMsgId: 'P1', voter: 'v@s.whatsapp.net', reason: 'too_many_options' }, AT)
  assert.equal(JSON.parse(r.body).data, { account: 'default', pollMsgId: 'P1', voter: 'v@s.whatsapp.net', reason: 'too_many_options' })
  assert.is(r.orderKey, 'poll:P1')
  const s = sessionStatus({ account: 'default', status: 'ready', user: { id: '1555@s.whatsapp.net', name: 'Me' } }, AT)
  assert.equal(JSON.parse(s.body), { type: 'session.status', timestamp: new Date(AT).toISOString(), data: { account: 'default', status: 'ready', user: { id: '1555@s.whatsapp.net', name: 'Me' } } })
  assert.is(s.orderKey, 'session')
  assert.is(JSON.parse(sessionStatus({ account: 'default', status: 'logged_out', user: null }, AT).body).data.user, null)
})

events('campaign events carry the campaign_update figures', () => {
  const data = { account: 'default', campaignId: 'C1', status: 'running' as const, sent: 3, failed: 0, total: 10, results: { Red: 2 } }
  assert.equal(JSON.parse(campaignProgress(data, AT).body).data, data)
  const done = campaignDone({ ...data, status: 'done' }, AT)
  assert.equal([done.type, done.orderKey], ['campaign.done', 'campaign:C1'])
})

events('ids: msg_ + a 26-character ULID, unique, ordered by time', () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => pollVoteRejected({ account: 'a', pollMsgId: 'P', voter: 'v', reason: 'x' }, AT).id))
  assert.is(ids.size, 10_000)
  for (const id of [...ids].slice(0, 100)) assert.match(id, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/)
  assert.ok(newId('msg_', AT) < newId('msg_', AT + 1), 'time prefix sorts')
  assert.is(newId('x_', 0).slice(2, 12), '0000000000')
})

events('the body is frozen at creation: the same bytes on every retry', () => {
  const e = pollSent({ account: 'default', pollMsgId: 'P1', poll }, AT)
  poll.results.Red = 99
  assert.is(JSON.parse(e.body).data.poll.results.Red, 1)
})

events.run()
