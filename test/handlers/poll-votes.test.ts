import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pollVotes } from '../../handlers/poll-votes.ts'
import type { VoteHistoryEntry } from '../../contract/polls.ts'
import { fakeCtx, get, invoke, memoryPolls, samplePoll } from '../fakes.ts'

const GET = suite('GET /polls/:id/votes')
const history: VoteHistoryEntry[] = [
  { voter: '15551110001@s.whatsapp.net', selected: ['Blue'], senderTimestamp: 1, receivedAt: 2, status: 'superseded' },
  { voter: '15551110001@s.whatsapp.net', selected: ['Red'], senderTimestamp: 3, receivedAt: 4, status: 'counted' },
]

GET('returns the history as stored', async () => {
  const res = await invoke(pollVotes, get('/polls/P1/votes'), fakeCtx({ polls: memoryPolls({ P1: samplePoll() }, { P1: history }) }), '/polls/:id/votes')
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, votes: history })
})

GET('404 for an unknown poll', async () => {
  const res = await invoke(pollVotes, get('/polls/P9/votes'), fakeCtx(), '/polls/:id/votes')
  assert.is(res.status, 404)
})

GET.run()
