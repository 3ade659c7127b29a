import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { getAllPollData } from '../../handlers/get-all-poll-data.ts'
import { fakeCtx, get, invoke, memoryPolls, samplePoll } from '../fakes.ts'

const GET = suite('GET /get-all-poll-data')

GET('returns every poll keyed by id', async () => {
  const polls = { P1: samplePoll(), P2: samplePoll({ question: 'Two?' }) }
  const res = await invoke(getAllPollData, get('/get-all-poll-data'), fakeCtx({ polls: memoryPolls(polls) }))
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, polls })
})

GET('empty store gives an empty object', async () => {
  const res = await invoke(getAllPollData, get('/get-all-poll-data'))
  assert.equal(res.body, { success: true, polls: {} })
})

GET.run()

const cached = suite('GET /get-all-poll-data (cached body)')
cached('serves the store\'s prepared JSON bytes when it has them', async () => {
  const polls = { P1: samplePoll() }
  const store = { ...memoryPolls(polls), allJson: () => new Uint8Array(Buffer.from(JSON.stringify({ success: true, polls }))) }
  const res = await invoke(getAllPollData, get('/get-all-poll-data'), fakeCtx({ polls: store }))
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, polls })
})
cached.run()
