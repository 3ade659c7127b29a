import { randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Browser, Page } from 'playwright-core'
import { startFakeWhatsApp, type FakeWhatsApp } from './fake-wa/index.ts'
import { closeAll, dashboardTab, launchChromium } from './harness/browser.ts'
import { freePort, startServer, waitFor, type ServerProcess } from './harness/server-process.ts'
import { onPostgres, sqliteOnly } from './harness/store.ts'
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook-receiver.ts'

/**
 * The dashboard's webhooks panel in Debian's Chromium against the real server: the WEBHOOK_URL
 * endpoint listed (not removable), an endpoint added from the page with its secret shown once,
 * a delivery that fails (receiver down, WEBHOOK_RETRY_FOR=2) retried from the page once the
 * receiver is back, and the endpoint removed. Also: without WEBHOOK_SECRET the server makes one,
 * keeps it in DATA_DIR/webhook-secret and prints it once on stderr.
 */


interface Ctx {
  fake: FakeWhatsApp
  server: ServerProcess
  browser: Browser
  page: Page
  /** the WEBHOOK_URL receiver, up all along */
  envReceiver: WebhookReceiver
  /** the receiver of the endpoint added from the page: down until the retry */
  pageReceiver: WebhookReceiver
  secret: string
  problems: string[]
}

const web = suite<Ctx>('dashboard webhooks panel (Chromium)', {} as Ctx)

// With DATABASE_URL, WEBHOOK_URL needs WEBHOOK_SECRET (every process signs with one secret): none is made.
const givenSecret = onPostgres ? `whsec_${randomBytes(32).toString('base64')}` : null

web.before(async (ctx) => {
  ctx.problems = []
  ctx.fake = await startFakeWhatsApp({ ownerPn: '15550000141', ownerLid: '900000000000141', ownerName: 'Hook Owner' })
  ctx.envReceiver = await startWebhookReceiver()
  ctx.pageReceiver = await startWebhookReceiver({ listen: false, port: await freePort() })
  ctx.server = await startServer({
    waWsUrl: ctx.fake.url,
    env: { LOG_LEVEL: 'info', WEBHOOK_URL: ctx.envReceiver.url, WEBHOOK_RETRY_FOR: '2', ...(givenSecret ? { WEBHOOK_SECRET: givenSecret } : {}) },
  })
  ctx.browser = await launchChromium()
})

web.after(async (ctx) => {
  try {
    await closeAll(ctx)
  } finally {
    await ctx.envReceiver?.close()
    await ctx.pageReceiver?.close()
  }
})

async function openPage(ctx: Ctx): Promise<Page> {
  const page = await dashboardTab(ctx.browser, ctx.server.url, ctx.problems)
  await page.goto(ctx.server.url)
  return page
}

web('without WEBHOOK_SECRET one is made, kept in DATA_DIR (0600) and printed once; the panel lists the env endpoint', async (ctx) => {
  if (sqliteOnly('a secret is made only without DATABASE_URL (with it WEBHOOK_SECRET is required); the panel is checked') && givenSecret) {
    ctx.secret = givenSecret
  } else {
    const file = join(ctx.server.dataDir, 'webhook-secret')
    ctx.secret = readFileSync(file, 'utf8').trim()
    assert.match(ctx.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/)
    assert.is(statSync(file).mode & 0o777, 0o600)
    const printed = ctx.server.logs.filter((l) => l.includes(ctx.secret))
    assert.is(printed.length, 1, 'printed once')
    assert.not.match(printed[0]!, /^\{/, 'on the terminal, not in a JSON log line')
  }
  ctx.envReceiver.setSecret(ctx.secret)

  ctx.page = await openPage(ctx)
  const { page } = ctx
  const env = page.locator('#webhook-endpoints li[data-source="env"]')
  await env.waitFor()
  assert.is(await env.locator('.endpoint-url').textContent(), ctx.envReceiver.url)
  assert.match(await env.textContent() ?? '', /from WEBHOOK_URL/)
  assert.match(await env.locator('.endpoint-events').textContent() ?? '', /all events/)
  assert.is(await env.locator('button').count(), 0, 'an env endpoint has no Remove button')
  assert.ok(await page.locator('#webhooks-empty').isHidden())
  assert.ok(await page.locator('#webhook-failed-empty').isVisible(), 'no failed deliveries yet')
  // The event checkboxes are the server's event types.
  assert.equal(await page.locator('#webhook-events input').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)),
    ['poll.sent', 'poll.vote', 'poll.vote.rejected', 'session.status', 'campaign.progress', 'campaign.done'])
})

web('adds an endpoint from the page: listed, its secret shown once, then never again', async (ctx) => {
  const { page } = ctx
  await page.locator('#webhook-url').fill('ftp://127.0.0.1/nope')
  await page.locator('#webhook-add').click()
  assert.match(await page.locator('#webhook-error').textContent() ?? '', /http/)

  await page.locator('#webhook-url').fill(ctx.pageReceiver.url)
  await page.locator('#webhook-events input[value="session.status"]').check()
  await page.locator('#webhook-add').click()
  await page.locator('#webhook-secret').waitFor({ state: 'visible' })
  const secret = await page.locator('#webhook-secret-value').inputValue()
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/)
  assert.is(await page.locator('#webhook-secret-for').textContent(), ctx.pageReceiver.url)
  assert.match(await page.locator('#webhook-secret').textContent() ?? '', /not shown again/)
  ctx.pageReceiver.setSecret(secret)

  const added = page.locator('#webhook-endpoints li[data-source="api"]')
  await added.waitFor()
  assert.is(await added.locator('.endpoint-url').textContent(), ctx.pageReceiver.url)
  assert.match(await added.locator('.endpoint-events').textContent() ?? '', /session\.status/)
  assert.match(await added.textContent() ?? '', /added here/)
  assert.match(await added.locator('.endpoint-health').textContent() ?? '', /no deliveries yet/)
  assert.is(await page.locator('#webhook-url').inputValue(), '', 'the form is reset')

  // The server's list never carries it; once dismissed, neither does the page.
  const { body } = await ctx.server.get('/webhooks')
  assert.not.ok(JSON.stringify(body).includes(secret))
  await page.locator('#webhook-secret-done').click()
  assert.ok(await page.locator('#webhook-secret').isHidden())
  assert.not.ok((await page.content()).includes(secret))
  await page.reload()
  await added.waitFor()
  assert.not.ok((await page.content()).includes(secret))
})

web('a delivery that failed (receiver down past WEBHOOK_RETRY_FOR) is listed and retried from the page', async (ctx) => {
  const { page, fake } = ctx
  // Linking makes session.status events: the receiver is down, so they fail for good within ~2 s.
  await page.locator('#qr[data-qr]').waitFor({ state: 'visible' })
  await fake.phone.scanQr((await page.locator('#qr').getAttribute('data-qr'))!)
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })

  const failedRow = page.locator('#webhook-failed tbody tr')
  // The panel refreshes itself every 5 s; the button asks at once.
  for (let i = 0; i < 60 && (await failedRow.count()) === 0; i++) {
    await page.locator('#webhooks-refresh').click()
    await page.waitForTimeout(250)
  }
  assert.ok(await failedRow.count() >= 1, 'a failed delivery is listed')
  const first = failedRow.first()
  assert.match(await first.textContent() ?? '', /session\.status/)
  assert.match(await first.textContent() ?? '', new RegExp(ctx.pageReceiver.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
  assert.match(await first.textContent() ?? '', /ECONNREFUSED|connection/)
  const added = page.locator('#webhook-endpoints li[data-source="api"]')
  await page.locator('#webhook-endpoints li[data-source="api"][data-health="failing"]').waitFor()
  assert.match(await added.locator('.endpoint-error').textContent() ?? '', /Last error: .*(ECONNREFUSED|connection)/)
  const failedIds = await failedRow.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')))

  // The receiver comes back; Retry on each row sends it again.
  await ctx.pageReceiver.up()
  for (let i = 0; i < 10 && (await failedRow.count()) > 0; i++) {
    await failedRow.first().locator('button', { hasText: 'Retry' }).click()
    await page.waitForTimeout(1200)
  }
  await page.locator('#webhook-failed-empty').waitFor({ state: 'visible', timeout: 10_000 })
  await waitFor('retried deliveries received', () => failedIds.every((id) => ctx.pageReceiver.events().some((e) => e.id === id)), 10_000)
  await page.locator('#webhooks-refresh').click()
  await page.locator('#webhook-endpoints li[data-source="api"][data-health="ok"]').waitFor()
  assert.match(await added.locator('.endpoint-health').textContent() ?? '', /healthy: last delivery/)
  assert.equal(ctx.pageReceiver.signatureFailures(), [])
  const types = ctx.pageReceiver.events().map((e) => e.type)
  assert.ok(types.length >= 1 && types.every((t) => t === 'session.status'), `only what it subscribed to: ${types}`)
  // The env endpoint, up all along, got the same events, signed with the generated secret.
  assert.ok(ctx.envReceiver.events('session.status').some((e) => e.data.status === 'ready'))
  assert.equal(ctx.envReceiver.signatureFailures(), [])
})

web('removes the endpoint from the page; no console errors or CSP violations', async (ctx) => {
  const { page } = ctx
  const added = page.locator('#webhook-endpoints li[data-source="api"]')
  await added.locator('button', { hasText: 'Remove' }).click()
  await added.waitFor({ state: 'detached' })
  const { body } = await ctx.server.get('/webhooks')
  assert.equal(body.endpoints.map((e: { source: string }) => e.source), ['env'])
  assert.is(await page.locator('#webhook-endpoints li').count(), 1)
  assert.equal(ctx.problems, [], 'no console errors, no CSP violations')
})

web.run()
