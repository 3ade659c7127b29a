import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { status } from '../../handlers/status.ts'
import { fakeCtx, fakeSession, get, invoke } from '../fakes.ts'

const GET = suite('GET /status')

GET('ready shows the user and no QR', async () => {
  const user = { id: '15550000001:3@s.whatsapp.net', name: 'Me' }
  const res = await invoke(status, get('/status'), fakeCtx({ session: fakeSession({ status: 'ready', user, qr: 'stale' }) }))
  assert.is(res.status, 200)
  assert.equal(res.body, { status: 'ready', qrCode: null, user, state: 'ready' })
})

GET('qr_pending shows the QR and no user', async () => {
  const res = await invoke(status, get('/status'), fakeCtx({ session: fakeSession({ status: 'qr_pending', qr: 'ref,a,b,c', user: { id: 'x', name: 'y' } }) }))
  assert.equal(res.body, { status: 'qr_pending', qrCode: 'ref,a,b,c', user: null, state: 'qr_pending' })
})

GET('connecting is reported as disconnected to the GUI', async () => {
  const res = await invoke(status, get('/status'), fakeCtx({ session: fakeSession({ status: 'connecting' }) }))
  assert.equal(res.body, { status: 'disconnected', qrCode: null, user: null, state: 'connecting' })
})

GET('logged_out', async () => {
  const res = await invoke(status, get('/status'), fakeCtx({ session: fakeSession({ status: 'logged_out' }) }))
  assert.is(res.body.status, 'logged_out')
})

GET.run()
