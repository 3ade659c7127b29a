import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pairingCode } from '../../handlers/pairing-code.ts'
import { fakeCtx, fakeSession, invoke, post } from '../fakes.ts'

const POST = suite('POST /pairing-code')

POST('returns the code for a valid number while pairing', async () => {
  const session = fakeSession({ status: 'qr_pending', code: 'WXYZ-1234' })
  const res = await invoke(pairingCode, post('/pairing-code', { phoneNumber: '+1 555 123-4567' }), fakeCtx({ session }))
  assert.is(res.status, 200)
  assert.equal(res.body, { success: true, code: 'WXYZ-1234' })
  assert.equal(session.calls.pairing, ['15551234567'])
})

POST('400 for a bad number', async () => {
  for (const phoneNumber of [undefined, 12345, 'abc', '12']) {
    const session = fakeSession({ status: 'qr_pending' })
    const res = await invoke(pairingCode, post('/pairing-code', { phoneNumber }), fakeCtx({ session }))
    assert.is(res.status, 400)
    assert.match(res.body.message, /phoneNumber/)
    assert.is(session.calls.pairing.length, 0)
  }
})

POST('409 when already linked, 503 while not connected', async () => {
  assert.is((await invoke(pairingCode, post('/pairing-code', { phoneNumber: '15551234567' }), fakeCtx({ session: fakeSession({ status: 'ready' }) }))).status, 409)
  assert.is((await invoke(pairingCode, post('/pairing-code', { phoneNumber: '15551234567' }), fakeCtx({ session: fakeSession({ status: 'disconnected' }) }))).status, 503)
})

POST('502 when WhatsApp refuses', async () => {
  const res = await invoke(pairingCode, post('/pairing-code', { phoneNumber: '15551234567' }), fakeCtx({ session: fakeSession({ status: 'qr_pending', fail: new Error('bad-request') }) }))
  assert.is(res.status, 502)
  assert.is(res.body.error, 'bad-request')
})

POST.run()
