import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { getAllPollData } from '../../handlers/get-all-poll-data.ts'
import { fakeCtx, get, invoke, memoryPolls, samplePoll } from '../fakes.ts'
import { createRouter } from '../../runtime/router.ts'
import type { PollReader, PollView } from '../../contract/polls.ts'

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

/** A poll reader that counts how much of its JSON was asked for; `revision` is set by the test. */
interface Counting { revision: number; calls: number; piecesRead: number; reader: PollReader }
function countingReader(polls: Record<string, PollView>): Counting {
  const r: Counting = {
    revision: 1,
    calls: 0,
    piecesRead: 0,
    reader: {
      all: () => polls,
      get: (id: string) => polls[id],
      votes: async () => undefined,
      revision: () => r.revision,
      *allJson() {
        r.calls++
        const ids = Object.keys(polls)
        yield '{'
        for (const [i, id] of ids.entries()) {
          r.piecesRead++
          yield `${i ? ',' : ''}${JSON.stringify(id)}:${JSON.stringify(polls[id])}`
        }
        yield '}'
      },
    } satisfies PollReader,
  }
  return r
}

const cached = suite('GET /get-all-poll-data (cached body)')
cached('a body is written once per revision of the polls; a new revision writes it again', async () => {
  const polls: Record<string, PollView> = { P1: samplePoll({ question: 'One?' }), P2: samplePoll({ question: 'Two?' }) }
  const r = countingReader(polls)
  const ctx = fakeCtx({ polls: r.reader })
  const first = await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  const second = await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  assert.is(r.calls, 1, 'the second request is served from the kept body')
  assert.equal(second.body, first.body)
  assert.equal(first.body, { success: true, polls })
  polls.P2 = samplePoll({ question: 'Two, changed?' })
  r.revision++
  const third = await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  assert.is(r.calls, 2)
  assert.equal(third.body.polls.P2.question, 'Two, changed?')
})

/** `count` polls of 200 voters with two 64-character choices each: about 14.7 KB a poll. */
function bigPolls(count: number): Record<string, PollView> {
  const voters: Record<string, string[]> = {}
  for (let v = 0; v < 200; v++) voters[`1555${String(v).padStart(7, '0')}@s.whatsapp.net`] = ['a'.repeat(64), 'b'.repeat(64)]
  const polls: Record<string, PollView> = {}
  for (let i = 0; i < count; i++) polls[`3EB0${i}`] = samplePoll({ question: `Q${i}?`, voters })
  return polls
}

cached('a body over 4 MB is streamed as the client reads it, and not kept the first time', async () => {
  const polls = bigPolls(300)
  const r = countingReader(polls)
  const ctx = fakeCtx({ polls: r.reader })
  const res = await createRouter([{ method: 'GET', path: '/get-all-poll-data', handler: getAllPollData }], ctx)(get('/get-all-poll-data'))
  assert.is(res.status, 200)
  assert.ok(r.piecesRead < 300, `only what was written before streaming began (${r.piecesRead} of 300 polls)`)
  const text = await res.text()
  assert.ok(text.length > 4 << 20, `${text.length} bytes`)
  assert.is(text, JSON.stringify({ success: true, polls }))
  assert.is(r.piecesRead, 300)
  await invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  assert.is(r.calls, 2, 'not kept: written again')
})

cached('asked for again at the same revision, a body up to 32 MB is kept; a larger one never is', async () => {
  const polls = bigPolls(300)
  const r = countingReader(polls)
  const ctx = fakeCtx({ polls: r.reader })
  const ask = () => invoke(getAllPollData, get('/get-all-poll-data'), ctx)
  await ask()
  const second = await ask()
  const third = await ask()
  assert.is(r.calls, 2, 'the second request kept it, the third was served from it')
  assert.equal(third.body, second.body)
  assert.equal(third.body, { success: true, polls })
  r.revision++
  await ask()
  assert.is(r.calls, 3, 'a new revision: written again, streamed, not kept')
  await ask()
  await ask()
  assert.is(r.calls, 4, 'kept once asked for again')

  const huge = countingReader(bigPolls(2_400))
  const hugeCtx = fakeCtx({ polls: huge.reader })
  for (let i = 0; i < 3; i++) {
    const res = await createRouter([{ method: 'GET', path: '/get-all-poll-data', handler: getAllPollData }], hugeCtx)(get('/get-all-poll-data'))
    const text = await res.text()
    if (i === 0) assert.ok(text.length > 32 << 20, `${text.length} bytes`)
  }
  assert.is(huge.calls, 3, 'over 32 MB: written for every request')
})
cached.run()
