import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { closeAll, dashboardTab, launchChromium, linkByPairingCode, withServer } from './harness/browser.ts'
import { startServer, type ServerProcess } from './harness/server-process.ts'

/**
 * The dashboard in a real browser (Debian's Chromium, never a downloaded one) against the
 * real server and the fake WhatsApp: pair by the QR the page shows, send a poll from the page,
 * watch a vote arrive live in its bar chart. Writes docs/dashboard.png for the README.
 */

// The README's picture is refreshed on demand (SCREENSHOT=docs/dashboard.png), not by every test run.
const SCREENSHOT = process.env.SCREENSHOT
  ? fileURLToPath(new URL(`../../${process.env.SCREENSHOT}`, import.meta.url))
  : join(tmpdir(), `pollwire-dashboard-${process.pid}.png`)
const GROUP = '120363000000000001@g.us'
// Chat names come from WhatsApp contacts and groups: whatever a stranger typed.
const HOSTILE = '<img src=x onerror="window.__pwned=1">Mallory'

interface Ctx {
  fake: FakeWhatsApp
  alice: FakeContact
  bob: FakeContact
  carol: FakeContact
  mallory: FakeContact
  server: ServerProcess
  browser: Browser
  page: Page
  /** console errors and uncaught exceptions, CSP violations included */
  problems: string[]
}

const web = suite<Ctx>('dashboard (Chromium)', {} as Ctx)

async function openPage(ctx: Ctx, url: string): Promise<Page> {
  const page = await dashboardTab(ctx.browser, url, ctx.problems)
  await page.goto(url)
  return page
}

web.before(async (ctx) => {
  ctx.problems = []
  ctx.fake = await startFakeWhatsApp({ ownerPn: '15550000001', ownerLid: '900000000000001', ownerName: 'Poll Owner' })
  ctx.alice = ctx.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  ctx.bob = ctx.fake.addContact({ pn: '15551110002', lid: '80000000002', name: 'Bob' })
  ctx.carol = ctx.fake.addContact({ pn: '15551110003', lid: '80000000003', name: 'Carol' })
  ctx.mallory = ctx.fake.addContact({ pn: '15551110004', lid: '80000000004', name: HOSTILE })
  ctx.fake.addGroup({ id: GROUP, subject: 'Lunch club', participants: [ctx.alice, ctx.bob, ctx.carol] })
  ctx.server = await startServer({ waWsUrl: ctx.fake.url })
  ctx.browser = await launchChromium()
})

web.after(closeAll)

web('pairs by scanning the QR the page shows', async (ctx) => {
  ctx.page = await openPage(ctx, ctx.server.url)
  const { page } = ctx
  await page.locator('#qr[data-qr]').waitFor({ state: 'visible' })
  const qr = await page.locator('#qr').getAttribute('data-qr')
  assert.ok(qr && qr.split(',').length >= 4, `a WhatsApp QR string, got ${qr}`)
  // The image is the server's drawing of that very string.
  const src = await page.locator('#qr').getAttribute('src')
  assert.match(src ?? '', /^data:image\/svg\+xml/)
  await page.locator('#state[data-state="qr_pending"]').waitFor()

  await ctx.fake.phone.scanQr(qr!)
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })
  await page.locator('#compose').waitFor({ state: 'visible' })
  assert.ok(await page.locator('#link').isHidden(), 'the link panel goes away once linked')
  await page.locator('#user').waitFor({ state: 'visible' })
  assert.match(await page.locator('#user').textContent() ?? '', /\+15550000001/)
})

web('lists chats without running their names as markup', async (ctx) => {
  const { page } = ctx
  // A message makes a 1:1 chat, named by the sender's push name.
  await ctx.mallory.sendText('hello')
  // WhatsApp sends the chats shortly after the first login; the page refreshes on demand.
  const group = page.locator('#chat option', { hasText: 'Lunch club (Group)' })
  const hostile = page.locator('#chat option', { hasText: 'Mallory' })
  for (let i = 0; i < 40 && ((await group.count()) === 0 || (await hostile.count()) === 0); i++) {
    await page.locator('#chats-refresh').click()
    await page.waitForTimeout(250)
  }
  assert.is(await group.count(), 1, 'the group is offered')
  assert.ok(await hostile.count() >= 1, 'the contact who wrote is offered')
  for (const text of await hostile.allTextContents()) assert.is(text, `${HOSTILE} (Contact)`)
  await page.locator('#chat-filter').fill('lunch')
  assert.is(await page.locator('#chat option[value]:not([value=""])').count(), 1, 'the filter narrows the list')
  await page.locator('#chat-filter').fill('')
  assert.is(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined)
})

web('the form explains what is wrong before sending', async (ctx) => {
  const { page } = ctx
  await page.locator('#chat').selectOption(GROUP)
  await page.locator('#question').fill('Where do we eat on Friday?')
  const inputs = page.locator('#options input')
  await inputs.nth(0).fill('Pizza')
  await inputs.nth(1).fill('Pizza ')
  await page.locator('#send').click()
  assert.match(await page.locator('#poll-error').textContent() ?? '', /appears twice/)
  // add up to 12 rows, no more; remove works
  for (let i = 0; i < 12; i++) if (await page.locator('#add-option').isEnabled()) await page.locator('#add-option').click()
  assert.is(await inputs.count(), 12)
  assert.ok(await page.locator('#add-option').isDisabled())
  while ((await inputs.count()) > 3) await page.locator('#options li:last-child button').click()
  assert.ok(await page.locator('#add-option').isEnabled())
})

web('sends a poll from the page and shows votes live', async (ctx) => {
  const { page, fake } = ctx
  const inputs = page.locator('#options input')
  await inputs.nth(0).fill('Pizza')
  await inputs.nth(1).fill('Sushi')
  await inputs.nth(2).fill('<b>Tacos</b>')
  await page.locator('#send').click()
  await page.locator('#poll-ok').filter({ hasText: 'Poll sent' }).waitFor()
  const card = page.locator('li.poll').first()
  await card.waitFor()
  const pollId = await card.getAttribute('data-poll-id')
  assert.ok(pollId)
  assert.is(await card.locator('.poll-question').textContent(), 'Where do we eat on Friday?')
  assert.is(await card.locator('.bar-row[data-option="<b>Tacos</b>"] .bar-label').textContent(), '<b>Tacos</b>')
  assert.is(await card.locator('b').count(), 0, 'option text is text, not markup')

  await fake.waitForPoll(pollId!, { timeoutMs: 15_000 })
  await ctx.alice.vote({ pollId: pollId!, options: ['Sushi'] })
  await card.locator('.bar-row[data-option="Sushi"][data-votes="1"]').waitFor()
  assert.match(await card.locator('.bar-row[data-option="Sushi"] .bar-count').textContent() ?? '', /^1 · 100%$/)

  await ctx.bob.vote({ pollId: pollId!, options: ['Pizza'] })
  await ctx.carol.vote({ pollId: pollId!, options: ['Sushi'] })
  await card.locator('.bar-row[data-option="Sushi"][data-votes="2"]').waitFor()
  await card.locator('.bar-row[data-option="Pizza"][data-votes="1"]').waitFor()
  const width = await card.locator('.bar-row[data-option="Sushi"] .bar-fill').evaluate((el) => (el as HTMLElement).style.width)
  assert.is(width, '67%')

  await card.locator('.voters-box summary').click()
  const voters = await card.locator('.voters').textContent() ?? ''
  assert.match(voters, /\+15551110001\)?: Sushi/)
  assert.match(voters, /\+15551110002\)?: Pizza/)

  await card.locator('.history summary').click()
  await card.locator('.history tbody tr').nth(2).waitFor()
  assert.is(await card.locator('.history tbody tr.vote-counted').count(), 3)

  // A changed mind replaces the old vote, live, in the open history too.
  await ctx.alice.vote({ pollId: pollId!, options: ['Pizza'] })
  await card.locator('.bar-row[data-option="Pizza"][data-votes="2"]').waitFor()
  await card.locator('.history tbody tr.vote-superseded').waitFor()
  await card.locator('.history summary').click()
  await card.locator('.voters-box summary').click()
})

web('downloads the CSV with the page, screenshot for the README', async (ctx) => {
  const { page } = ctx
  const card = page.locator('li.poll').first()
  const [download] = await Promise.all([page.waitForEvent('download'), card.locator('.actions button').click()])
  const path = await download.path()
  const { readFileSync } = await import('node:fs')
  const csv = readFileSync(path, 'utf8')
  assert.match(csv, /^option,votes\r\nPizza,2\r\nSushi,1\r\n/)
  assert.match(download.suggestedFilename(), /^poll-.+\.csv$/)

  await card.locator('.voters-box summary').click()
  mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  assert.ok(existsSync(SCREENSHOT))
  if (!process.env.SCREENSHOT) rmSync(SCREENSHOT)
  assert.equal(ctx.problems, [], 'no console errors, no CSP violations')

  // What the page did shows in the metrics: four votes decrypted, requests by route pattern.
  const metrics = await (await fetch(`${ctx.server.url}/metrics`)).text()
  assert.match(metrics, /^pollwire_polls\{account="default"\} 1$/m)
  assert.match(metrics, /^pollwire_journal_votes\{account="default",state="decrypted"\} 4$/m)
  assert.match(metrics, /^pollwire_http_requests_total\{route="\/polls\/:id\/votes",method="GET",status="200"\} \d+$/m)
  assert.match(metrics, /^pollwire_connection_state\{account="default",state="ready"\} 1$/m)
})

web('with API_TOKEN: asks for the token, then HTTP and Socket.IO use it; links by pairing code', async (ctx) => {
  const token = 'e2e-token-0123456789abcdef'
  await withServer({ waWsUrl: ctx.fake.url, token }, async (guarded) => {
    const page = await openPage(ctx, guarded.url)
    await page.locator('#token-dialog[open]').waitFor()
    await page.locator('#token').fill('wrong-token-0123456789')
    await page.locator('#token-form button').click()
    await page.locator('#token-error').filter({ hasText: 'refused' }).waitFor()
    await page.locator('#token').fill(token)
    await page.locator('#token-form button').click()
    // The state arrives over Socket.IO too; a QR means the socket was let in.
    await page.locator('#qr[data-qr]').waitFor({ state: 'visible', timeout: 30_000 })
    assert.is(await page.evaluate(() => sessionStorage.getItem('pollwire.apiToken')), token)
    assert.ok(await page.locator('#token-dialog').evaluate((d) => !(d as HTMLDialogElement).open))

    const code = await linkByPairingCode(page, ctx.fake, '+1 555 000-0001')
    assert.match(code, /^[A-Z0-9]{4}-?[A-Z0-9]{4}$/)
    await page.close()
  })
  assert.equal(ctx.problems.filter((p) => !/401|Unauthorized/i.test(p)), [])
})

web.run()
