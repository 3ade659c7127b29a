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
cached('the same views are stringified once; a new view (a changed poll) is stringified again', async () => {
  let stringified = 0
  const view = (question: string) => {
    const v = samplePoll({ question })
    return Object.assign(v, { toJSON: () => { stringified++; return { ...v, toJSON: undefined } } })
  }
  const polls: Record<string, ReturnType<typeof samplePoll>> = { P1: view('One?'), P2: view('Two?') }
  const ctx = fakeCtx({ polls: memoryPolls(polls) })
  const first = await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  assert.is(stringified, 2, 'two polls, stringified once')
  assert.equal(first.body.polls.P1.question, 'One?')
  polls.P2 = view('Two, changed?')
  const third = await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  assert.is(stringified, 4)
  assert.equal(third.body.polls.P2.question, 'Two, changed?')
})
cached.run()
