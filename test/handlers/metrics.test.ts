import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { metrics } from '../../handlers/metrics.ts'
import { fakeCtx, get, invoke } from '../fakes.ts'

const GET = suite('GET /metrics')

GET('answers the exposition text with its content type', async () => {
  const text = '# HELP pollwire_polls Polls in the store\n# TYPE pollwire_polls gauge\npollwire_polls 2\n'
  const ctx = fakeCtx({ metrics: { text: async () => text, contentType: 'text/plain; version=0.0.4; charset=utf-8' } })
  const res = await invoke(metrics, get('/metrics'), ctx)
  assert.is(res.status, 200)
  assert.is(res.body, text)
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  assert.is(res.headers.get('cache-control'), 'no-store')
})

GET('404 in the contract shape when the runtime collects none', async () => {
  const res = await invoke(metrics, get('/metrics'), fakeCtx())
  assert.is(res.status, 404)
  assert.is(res.body.success, false)
  assert.match(res.body.message, /metrics/)
})

GET.run()
