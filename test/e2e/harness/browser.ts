import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { FakeWhatsApp } from '../fake-wa/index.ts'
import { removeDir, startServer, type ServerProcess, type StartOptions } from './server-process.ts'

/** Debian's Chromium (never a downloaded browser); CHROMIUM_PATH for another one. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
}

/**
 * A dashboard tab that reaches nothing but `origin` (and data: URLs): a request elsewhere would
 * be a leak, or a missed vendor file. Console errors and uncaught exceptions, CSP violations
 * included, go to `problems`; confirm() dialogs are accepted. Not navigated yet.
 */
export async function dashboardTab(browser: Browser, origin: string, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 }, deviceScaleFactor: 1 })
  page.setDefaultTimeout(20_000)
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('dialog', (d) => void d.accept())
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url())
    return u.origin === new URL(origin).origin || u.protocol === 'data:' ? route.continue() : route.abort()
  })
  return page
}

/** Closes the browser, stops the server (its data dir removed) and the fake WhatsApp; throws if the server exited badly. */
export async function closeAll(w: { browser?: Browser; server?: ServerProcess; fake?: FakeWhatsApp }) {
  await w.browser?.close()
  const code = await w.server?.stop()
  if (w.server) removeDir(w.server.dataDir)
  await w.fake?.close()
  if (code !== 0 && code !== null && code !== undefined) throw new Error(`server exited with ${code}`)
}

/** Links the account the page shows by a pairing code, typed on the fake phone; resolves with the code once the page says ready. */
export async function linkByPairingCode(page: Page, fake: FakeWhatsApp, phoneNumber: string): Promise<string> {
  await page.locator('#phone').fill(phoneNumber)
  await page.locator('#pairing-form button').click()
  await page.locator('#pairing-result').waitFor({ state: 'visible' })
  const code = (await page.locator('#pairing-code').textContent()) ?? ''
  await fake.phone.enterPairingCode(code.replace('-', ''))
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })
  return code
}

/** Runs `fn` against a server of its own (e.g. one with API_TOKEN), stopped and its data removed after. */
export async function withServer<T>(opts: StartOptions, fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServer(opts)
  try {
    return await fn(server)
  } finally {
    await server.stop()
    removeDir(server.dataDir)
  }
}
