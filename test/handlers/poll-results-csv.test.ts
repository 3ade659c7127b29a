import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pollResultsCsv } from '../../handlers/poll-results-csv.ts'
import { fakeCtx, get, invoke, memoryPolls, samplePoll } from '../fakes.ts'

const GET = suite('GET /polls/:id/results.csv')

GET('option rows then voter rows, quoted and formula-safe', async () => {
  const p = samplePoll({
    options: ['Red, dark', '=SUM(A1)'],
    optionHashes: { aa: 'Red, dark', bb: '=SUM(A1)' },
    results: { 'Red, dark': 1, '=SUM(A1)': 1 },
    voters: { '15551110001@s.whatsapp.net': ['aa', 'bb'] },
  })
  const res = await invoke(pollResultsCsv, get('/polls/P1/results.csv'), fakeCtx({ polls: memoryPolls({ P1: p }) }), '/polls/:id/results.csv')
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/)
  assert.is(res.body, 'option,votes\r\n"Red, dark",1\r\n\'=SUM(A1),1\r\n\r\nvoter,options\r\n15551110001@s.whatsapp.net,"Red, dark; =SUM(A1)"\r\n')
})

GET('404 as JSON for an unknown poll', async () => {
  const res = await invoke(pollResultsCsv, get('/polls/X/results.csv'), fakeCtx(), '/polls/:id/results.csv')
  assert.is(res.status, 404)
  assert.is(res.body.success, false)
})

GET.run()
