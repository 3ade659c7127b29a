import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { poll } from '../../handlers/poll.ts'
import { fakeCtx, get, invoke, memoryPolls, samplePoll } from '../fakes.ts'

const GET = suite('GET /polls/:id')
const ctx = () => fakeCtx({ polls: memoryPolls({ 'ABC 1': samplePoll() }) })

GET('returns the poll with its id', async () => {
  const res = await invoke(poll, get('/polls/ABC%201'), ctx(), '/polls/:id')
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, pollMsgId: 'ABC 1', ...samplePoll() })
})

GET('404 for an unknown id', async () => {
  const res = await invoke(poll, get('/polls/NOPE'), ctx(), '/polls/:id')
  assert.is(res.status, 404)
  assert.is(res.body.success, false)
  assert.match(res.body.message, /NOPE/)
})

GET.run()
