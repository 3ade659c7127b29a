import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Browser, Page } from 'playwright-core'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { closeAll, dashboardTab, launchChromium } from './harness/browser.ts'
import { startServer, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * The dashboard's account switcher in Debian's Chromium against the real server and one fake
 * WhatsApp serving two owners: pair `default` from the page, add `shop` from the page and pair
 * it by the QR the page shows, send and watch polls for each, switch back and forth (the page's
 * HTTP paths and Socket.IO namespace follow the account), remove `shop`.
 */


interface Ctx {
  fake: FakeWhatsApp
  shopFake: FakeWhatsApp
  alice: FakeContact
  dave: FakeContact
  server: ServerProcess
  browser: Browser
  page: Page
  /** every API request path the page made, and every Socket.IO namespace it opened */
  requests: string[]
  problems: string[]
  defaultQr: string
  shopPoll: string
  shopCampaign: string
}

const web = suite<Ctx>('dashboard accounts (Chromium)', {} as Ctx)

web.before(async (ctx) => {
  ctx.problems = []
  ctx.requests = []
  ctx.fake = await startFakeWhatsApp({ ownerPn: '15550000001', ownerLid: '900000000000001', ownerName: 'Default Owner' })
  ctx.alice = ctx.fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
  ctx.shopFake = ctx.fake.addOwner({ ownerPn: '15550000002', ownerLid: '900000000000002', ownerName: 'Shop Owner' })
  ctx.dave = ctx.shopFake.addContact({ pn: '15552220001', lid: '80000000101', name: 'Dave' })
  ctx.server = await startServer({ waWsUrl: ctx.fake.url })
  ctx.browser = await launchChromium()
  const page = await dashboardTab(ctx.browser, ctx.server.url, ctx.problems)
  // Namespaces share one engine connection: the Socket.IO CONNECT packet (`40/ns,{auth}`, or
  // `40{auth}` for the default one) names the namespace, over polling or WebSocket.
  const connects = (payload: string) => {
    for (const packet of payload.split('\x1e')) {
      if (!packet.startsWith('40')) continue
      ctx.requests.push(`NSP ${packet[2] === '/' ? packet.slice(2).split(',')[0] : '/'}`)
    }
  }
  page.on('request', (r) => {
    const u = new URL(r.url())
    if (u.pathname === '/socket.io/') { if (r.method() === 'POST') connects(r.postData() ?? ''); return }
    ctx.requests.push(`${r.method()} ${u.pathname}${u.search}`)
  })
  page.on('websocket', (ws) => ws.on('framesent', (f) => connects(String(f.payload))))
  ctx.page = page
})

web.after(closeAll)

/** The chats offered in the poll form (refreshing until `want` is there). */
async function chatOptions(page: Page, want: string): Promise<string[]> {
  for (let i = 0; i < 40; i++) {
    const texts = await page.locator('#chat option').allTextContents()
    if (texts.some((t) => t.includes(want))) return texts
    await page.locator('#chats-refresh').click()
    await page.waitForTimeout(250)
  }
  return page.locator('#chat option').allTextContents()
}

web('default pairs as before; the switcher lists it', async (ctx) => {
  const { page } = ctx
  await page.goto(ctx.server.url)
  await page.locator('#qr[data-qr]').waitFor({ state: 'visible' })
  ctx.defaultQr = (await page.locator('#qr').getAttribute('data-qr'))!
  await ctx.fake.phone.scanQr(ctx.defaultQr)
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })
  assert.is(await page.locator('#account-select').inputValue(), 'default')
  await page.locator('#account-list li[data-account="default"][data-state="ready"]').waitFor()
  assert.is(await page.locator('#account-list li[data-account="default"] button[aria-label^="Remove"]').count(), 0, 'default cannot be removed')
  assert.is(new URL(page.url()).search, '', 'default keeps the plain address')
})

web('adding an account checks the name, then shows the new account with its own QR', async (ctx) => {
  const { page } = ctx
  await page.locator('#account-id').fill('Shop!')
  await page.locator('#account-add').click()
  assert.match(await page.locator('#account-error').textContent() ?? '', /lower-case letters/)
  await page.locator('#account-id').fill('default')
  await page.locator('#account-add').click()
  assert.match(await page.locator('#account-error').textContent() ?? '', /already/)

  await page.locator('#account-id').fill('shop')
  await page.locator('#account-add').click()
  await page.waitForURL(/\?account=shop$/)
  assert.is(await page.locator('#account-select').inputValue(), 'shop')
  await page.locator('#qr[data-qr]').waitFor({ state: 'visible', timeout: 30_000 })
  const qr = (await page.locator('#qr').getAttribute('data-qr'))!
  assert.is.not(qr, ctx.defaultQr)
  assert.ok(ctx.requests.includes('GET /accounts/shop/status/qr.svg'), 'the QR image is the shop account\'s')
  assert.ok(ctx.requests.includes('GET /accounts/shop/status'))
  // The page opens the namespace once the status is shown.
  await waitFor('the shop namespace opened', () => ctx.requests.includes('NSP /accounts/shop'))
  await page.locator('#state[data-state="qr_pending"]').waitFor()

  await ctx.shopFake.phone.scanQr(qr)
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })
  // whatsapp_user is an event of its own, after client_status: the name follows a moment later.
  await page.locator('#user').filter({ hasText: /\+15550000002/ }).waitFor()
  await page.locator('#account-list li[data-account="shop"][data-state="ready"]').waitFor()
  assert.equal(ctx.fake.linkedDevices.length, 1, "the default owner's devices are untouched")
})

web("shop's page: its chats only; a poll sent from it is counted live", async (ctx) => {
  const { page } = ctx
  await ctx.shopFake.waitForInitialSync({ timeoutMs: 20_000 })
  const chats = await chatOptions(page, 'Dave')
  assert.ok(chats.some((c) => c.startsWith('Dave')), `Dave offered: ${chats}`)
  assert.not.ok(chats.some((c) => c.startsWith('Alice')), 'no chat of default')
  await page.locator('#chat').selectOption(ctx.dave.pnJid)
  await page.locator('#question').fill('Open on Sunday?')
  const inputs = page.locator('#options input')
  await inputs.nth(0).fill('Yes')
  await inputs.nth(1).fill('No')
  await page.locator('#send').click()
  await page.locator('#poll-ok').filter({ hasText: 'Poll sent' }).waitFor()
  assert.ok(ctx.requests.includes('POST /accounts/shop/send-poll'))
  const card = page.locator('li.poll').first()
  await card.waitFor()
  ctx.shopPoll = (await card.getAttribute('data-poll-id'))!
  await ctx.shopFake.waitForPoll(ctx.shopPoll, { timeoutMs: 15_000 })
  await ctx.dave.vote({ pollId: ctx.shopPoll, options: ['Yes'] })
  await card.locator('.bar-row[data-option="Yes"][data-votes="1"]').waitFor()

  // A campaign started from shop's page is shop's: picked from its chats, sent and followed under its prefix.
  await page.locator('#campaign-chat-filter').fill('dave')
  await page.locator('#campaign-select-shown').click()
  assert.equal(await page.locator('#campaign-chats input:checked').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), [ctx.dave.pnJid])
  await page.locator('#campaign-question').fill('Shop campaign?')
  await page.locator('#campaign-options input').nth(0).fill('Yes')
  await page.locator('#campaign-options input').nth(1).fill('No')
  await page.locator('#campaign-delay-min').fill('0')
  await page.locator('#campaign-delay-max').fill('0')
  await page.locator('#campaign-create').click()
  await page.locator('#campaign-ok').filter({ hasText: 'Campaign started: 1 chat' }).waitFor()
  ctx.shopCampaign = (await page.locator('#campaign-list li.campaign').first().getAttribute('data-campaign-id'))!
  await page.locator(`#campaign-list li.campaign[data-campaign-id="${ctx.shopCampaign}"][data-status="done"]`).waitFor()
  assert.ok(ctx.requests.includes('POST /accounts/shop/campaigns'))
  assert.ok(ctx.requests.includes(`GET /accounts/shop/campaigns/${ctx.shopCampaign}`))
  assert.not.ok(ctx.requests.includes('POST /campaigns'), "nothing went to default's campaigns")
})

web('switching to default shows its chats and polls, not shop\'s; switching back shows shop\'s', async (ctx) => {
  const { page } = ctx
  const before = ctx.requests.length
  await page.locator('#account-select').selectOption('default')
  await page.locator('#state[data-state="ready"]').waitFor()
  assert.is(new URL(page.url()).search, '')
  await page.locator('#polls-empty').waitFor({ state: 'visible' })
  assert.is(await page.locator('li.poll').count(), 0, "shop's poll is not shown for default")
  await page.locator('#campaigns-empty').waitFor({ state: 'visible' })
  assert.is(await page.locator('#campaign-list li').count(), 0, "shop's campaign is not shown for default")
  assert.ok(await page.locator('#campaign-detail').isHidden())
  assert.ok(ctx.requests.slice(before).includes('GET /campaigns'), "default's campaigns are asked for at the plain path")
  await ctx.fake.waitForInitialSync({ timeoutMs: 20_000 })
  const chats = await chatOptions(page, 'Alice')
  assert.ok(chats.some((c) => c.startsWith('Alice')))
  assert.not.ok(chats.some((c) => c.startsWith('Dave')), 'no chat of shop')
  // A shop vote while default is shown reaches nothing on this page.
  await ctx.dave.vote({ pollId: ctx.shopPoll, options: ['No'] })
  await page.waitForTimeout(500)
  assert.is(await page.locator('li.poll').count(), 0)
  await page.locator('#account-list button.link[data-account="shop"]').click()
  await page.waitForURL(/\?account=shop$/)
  const card = page.locator(`li.poll[data-poll-id="${ctx.shopPoll}"]`)
  await card.locator('.bar-row[data-option="No"][data-votes="1"]').waitFor()
  await card.locator('.bar-row[data-option="Yes"][data-votes="0"]').waitFor()
  await page.locator(`#campaign-list li.campaign[data-campaign-id="${ctx.shopCampaign}"][data-status="done"]`).waitFor()
  const namespaces = () => ctx.requests.filter((r) => r.startsWith('NSP'))
  await waitFor("shop's namespace again", () => namespaces().at(-1) === 'NSP /accounts/shop')
  assert.equal(namespaces().slice(-2), ['NSP /', 'NSP /accounts/shop'], 'default namespace for default, then shop\'s again')
})

web('a reload keeps the chosen account; removing it logs it out and returns to default', async (ctx) => {
  const { page } = ctx
  await page.reload()
  await page.locator('#state[data-state="ready"]').waitFor()
  assert.is(await page.locator('#account-select').inputValue(), 'shop')
  await page.locator(`li.poll[data-poll-id="${ctx.shopPoll}"]`).waitFor()
  await page.locator('#account-list button[aria-label="Remove account shop"]').click()
  await page.waitForURL((u) => u.search === '')
  await page.locator('#account-list li[data-account="shop"]').waitFor({ state: 'detached' })
  assert.is(await page.locator('#account-select').inputValue(), 'default')
  await page.locator('#state[data-state="ready"]').waitFor()
  assert.ok(ctx.requests.includes('DELETE /accounts/shop'), 'removed without purge')
  assert.equal(ctx.shopFake.linkedDevices, [], "shop's device is unlinked")
  assert.is(ctx.fake.linkedDevices.length, 1)
  // An address naming an account that is gone shows default.
  await page.goto(`${ctx.server.url}/?account=shop`)
  await page.locator('#account-select').filter({ hasText: 'default' }).waitFor()
  await page.waitForURL((u) => u.search === '')
  await page.locator('#state[data-state="ready"]').waitFor()
  assert.equal(ctx.problems.filter((p) => !/404/.test(p)), [], 'no console errors, no CSP violations')
})

web.run()
