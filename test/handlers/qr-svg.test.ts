import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { qrSvg } from '../../handlers/qr-svg.ts'
import { fakeCtx, fakeSession, get, invoke } from '../fakes.ts'

const GET = suite('GET /status/qr.svg')

GET('draws the pending QR, never cached', async () => {
  const drawn: string[] = []
  const ctx = fakeCtx({
    session: fakeSession({ status: 'qr_pending', qr: '2@abc,def,ghi' }),
    qrSvg: async (text) => { drawn.push(text); return '<svg xmlns="http://www.w3.org/2000/svg"/>' },
  })
  const res = await invoke(qrSvg, get('/status/qr.svg'), ctx)
  assert.is(res.status, 200)
  assert.is(res.body, '<svg xmlns="http://www.w3.org/2000/svg"/>')
  assert.is(res.headers.get('content-type'), 'image/svg+xml; charset=utf-8')
  assert.is(res.headers.get('cache-control'), 'no-store')
  assert.equal(drawn, ['2@abc,def,ghi'])
})

GET('404 when no pairing is waiting', async () => {
  for (const status of ['ready', 'disconnected', 'connecting', 'logged_out'] as const) {
    const ctx = fakeCtx({ session: fakeSession({ status, qr: 'stale' }), qrSvg: async () => '<svg/>' })
    const res = await invoke(qrSvg, get('/status/qr.svg'), ctx)
    assert.is(res.status, 404, status)
    assert.equal(res.body.success, false)
  }
})

GET('404 when the runtime draws no QR images', async () => {
  const res = await invoke(qrSvg, get('/status/qr.svg'), fakeCtx({ session: fakeSession({ status: 'qr_pending', qr: 'x' }) }))
  assert.is(res.status, 404)
  assert.match(res.body.message, /QR/)
})

GET.run()
