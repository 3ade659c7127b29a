import type { FakeWhatsApp } from '../fake-wa/index.ts'
import { waitFor, type ServerProcess } from './server-process.ts'

/** Links the server as a user would: read the QR from GET /status, scan it with the phone. */
export async function pairByQr(server: ServerProcess, fake: FakeWhatsApp) {
  const status = await waitFor('a QR on /status', async () => {
    const s = await server.get('/status')
    return s.body.status === 'qr_pending' && s.body.qrCode ? s.body : undefined
  }, 20_000)
  await fake.phone.scanQr(status.qrCode)
  return waitFor('ready', async () => {
    const s = await server.get('/status')
    return s.body.status === 'ready' ? s.body : undefined
  }, 30_000)
}
