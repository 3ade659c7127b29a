import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { logout } from '../../handlers/logout.ts'
import { fakeCtx, fakeSession, invoke } from '../fakes.ts'

const POST = suite('POST /logout')

POST('logs out through the session once and says so', async () => {
  const session = fakeSession()
  const res = await invoke(logout, new Request('http://localhost/logout', { method: 'POST' }), fakeCtx({ session }))
  assert.is(res.status, 200)
  assert.is(res.body.success, true)
  assert.match(res.body.message, /^Logged out and local session cleared/)
  assert.is(session.calls.logout, 1)
})

POST.run()
