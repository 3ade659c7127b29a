/**
 * The real app (createApp: router, token guard, Hono server, Socket.IO, vote engine on a
 * SQLite file) listening on 127.0.0.1 with a fake Baileys socket, for security tests that
 * speak real HTTP and Socket.IO without a WhatsApp.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../../runtime/app.ts'
import { parseConfig } from '../../runtime/config.ts'
import { fakeSocketFactory } from '../core/whatsapp/fake-socket.ts'
import { silent } from '../fakes.ts'

export const TOKEN = 'test-token-0123456789abcdef'

export interface Running {
  app: App
  url: string
  sockets: ReturnType<typeof fakeSocketFactory>
  /** shows a QR on the current fake socket: the session becomes qr_pending */
  showQr(qr?: string): void
  /** the fake socket reports an open connection: the session becomes ready */
  open(): void
  close(): Promise<void>
}

export async function startApp(env: Record<string, string> = {}): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pollwire-sec-'))
  const config = parseConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...env })
  const sockets = fakeSocketFactory()
  const app = await createApp(config, silent, sockets.factory)
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve))
  app.session.start()
  // The socket opens once the credentials are read.
  await new Promise((resolve) => setImmediate(resolve))
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    app,
    url,
    sockets,
    showQr: (qr = '2@ref-for-tests,noise,identity,adv') => sockets.last().emit('connection.update', { qr }),
    open: () => sockets.last().open(),
    async close() {
      await app.shutdown()
      await new Promise<void>((resolve) => app.server.close(() => resolve()))
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
