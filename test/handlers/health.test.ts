import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { health } from '../../handlers/health.ts'
import { fakeCtx, fakeSession, get, invoke } from '../fakes.ts'

const GET = suite('GET /health')

GET('200 when the store answers', async () => {
  const res = await invoke(health, get('/health'), fakeCtx({ session: fakeSession({ status: 'qr_pending' }) }))
  assert.is(res.status, 200)
  assert.equal(res.body, { ok: true, whatsapp: 'qr_pending', store: 'ok' })
})

GET('503 with the same shape when it does not', async () => {
  const res = await invoke(health, get('/health'), fakeCtx({ store: { ok: () => false } }))
  assert.is(res.status, 503)
  assert.equal(res.body, { ok: false, whatsapp: 'ready', store: 'error' })
})

GET.run()
