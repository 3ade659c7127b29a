import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Browser, Page } from 'playwright-core'
import { startFakeWhatsApp, type FakeContact, type FakeWhatsApp } from './fake-wa/index.ts'
import { closeAll, dashboardTab, launchChromium, linkByPairingCode, withServer } from './harness/browser.ts'
import { startServer, waitFor, type ServerProcess } from './harness/server-process.ts'

/**
 * The dashboard's campaigns panel in Debian's Chromium against the real server and the fake
 * WhatsApp: chats picked by search, "select all shown" and a checkbox; the server's 400 shown as
 * it is; a campaign created from the page runs to done while its progress bar follows, each
 * chat's poll reaches the fake; votes in several chats show live in the combined chart (each
 * person once), the voters count and the per-chat table; results.csv from its link; pause,
 * resume and cancel of a slower campaign; and all of it again behind API_TOKEN.
 */

const ALPHA = '120363000000000181@g.us'
const BETA = '120363000000000182@g.us'
const GAMMA = '120363000000000183@g.us'
const FAMILY = '120363000000000184@g.us'
// Group subjects are whatever a stranger typed.
const HOSTILE = 'Team <img src=x onerror="window.__pwned=1">Gamma'
/** the pause of the slow campaign (s): long enough to pause between two sends */
const SLOW_S = 3

interface Ctx {
  fake: FakeWhatsApp
  alice: FakeContact
  bob: FakeContact
  carol: FakeContact
  dave: FakeContact
  server: ServerProcess
  browser: Browser
  page: Page
  /** the first campaign, created from the page */
  campaignId: string
  /** its poll per chat */
  polls: Record<string, string>
  problems: string[]
}

const web = suite<Ctx>('dashboard campaigns panel (Chromium)', {} as Ctx)

web.before(async (ctx) => {
  ctx.problems = []
  ctx.fake = await startFakeWhatsApp({ ownerPn: '15550000181', ownerLid: '900000000000181', ownerName: 'Campaign Owner' })
  ctx.alice = ctx.fake.addContact({ pn: '15551810001', lid: '80000001811', name: 'Alice' })
  ctx.bob = ctx.fake.addContact({ pn: '15551810002', lid: '80000001812', name: 'Bob' })
  ctx.carol = ctx.fake.addContact({ pn: '15551810003', lid: '80000001813', name: 'Carol' })
  ctx.dave = ctx.fake.addContact({ pn: '15551810004', lid: '80000001814', name: 'Dave' })
  ctx.fake.addGroup({ id: ALPHA, subject: 'Team Alpha', participants: [ctx.alice, ctx.bob] })
  ctx.fake.addGroup({ id: BETA, subject: 'Team Beta', participants: [ctx.bob, ctx.carol] })
  ctx.fake.addGroup({ id: GAMMA, subject: HOSTILE, participants: [ctx.carol, ctx.alice] })
  ctx.fake.addGroup({ id: FAMILY, subject: 'Family', participants: [ctx.dave] })
  ctx.server = await startServer({ waWsUrl: ctx.fake.url, env: { LOG_LEVEL: 'info', CAMPAIGN_MAX_PER_MIN: '1000' } })
  ctx.browser = await launchChromium()
})

web.after(closeAll)

async function openPage(ctx: Ctx, url: string): Promise<Page> {
  const page = await dashboardTab(ctx.browser, url, ctx.problems)
  await page.goto(url)
  return page
}

/** Refreshes the chats until the picker offers every label in `want` (WhatsApp sends them shortly after linking). */
async function waitForChats(page: Page, want: string[]) {
  const labels = () => page.locator('#campaign-chats li').allTextContents()
  await waitFor(`the picker offers ${want.join(', ')}`, async () => {
    const have = await labels()
    if (want.every((w) => have.includes(w))) return true
    await page.locator('#campaign-chats-refresh').click()
    await page.waitForTimeout(250)
    return undefined
  }, 20_000)
}

/** The campaign's state on the server. */
async function campaignOf(server: ServerProcess, id: string) {
  const res = await server.get(`/campaigns/${id}`)
  assert.is(res.status, 200, JSON.stringify(res.body))
  return res.body.campaign
}

const selectedCount = async (page: Page) => Number(await page.locator('#campaign-chat-count').getAttribute('data-selected'))
const item = (page: Page, id: string) => page.locator(`#campaign-list li.campaign[data-campaign-id="${id}"]`)
/** the id of the campaign listed first (the newest) */
const newestId = async (page: Page) => (await page.locator('#campaign-list li.campaign').first().getAttribute('data-campaign-id'))!
const cell = (page: Page, chatId: string, option: string) =>
  page.locator(`#campaign-chat-table tr[data-chat-id="${chatId}"] td[data-option="${option}"]`)

/** Fills the form's question, options (adding rows as needed) and pause. */
async function fillForm(page: Page, question: string, options: string[], delay: [string, string]) {
  await page.locator('#campaign-question').fill(question)
  const inputs = page.locator('#campaign-options input')
  while ((await inputs.count()) < options.length) await page.locator('#campaign-add-option').click()
  for (const [i, o] of options.entries()) await inputs.nth(i).fill(o)
  await page.locator('#campaign-delay-min').fill(delay[0])
  await page.locator('#campaign-delay-max').fill(delay[1])
}

web('links by the page\'s QR; the panel lists no campaigns; the picker offers groups and contacts, names as text', async (ctx) => {
  ctx.page = await openPage(ctx, ctx.server.url)
  const { page } = ctx
  await page.locator('#qr[data-qr]').waitFor({ state: 'visible' })
  await ctx.fake.phone.scanQr((await page.locator('#qr').getAttribute('data-qr'))!)
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 })
  await ctx.fake.waitForInitialSync({ timeoutMs: 20_000 })
  assert.ok(await page.locator('#campaigns-empty').isVisible(), 'no campaigns yet')
  assert.is(await page.locator('#campaign-list li').count(), 0)
  // The default pause is the server's (from its OpenAPI document): 2–4 s.
  assert.is(await page.locator('#campaign-delay-min').inputValue(), '2')
  assert.is(await page.locator('#campaign-delay-max').inputValue(), '4')

  await waitForChats(page, ['Team Alpha (Group)', 'Team Beta (Group)', `${HOSTILE} (Group)`, 'Family (Group)', 'Alice (Contact)', 'Bob (Contact)'])
  assert.is(await page.locator('#campaign-chats img').count(), 0, 'a chat name is text, not markup')
  assert.is(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined)
})

web('picks chats by search: select all shown, clear, one more by its checkbox', async (ctx) => {
  const { page } = ctx
  const total = await page.locator('#campaign-chats li').count()
  await page.locator('#campaign-chat-filter').fill('team')
  // Sorted by name as the server lists them ('<' before letters).
  assert.equal(await page.locator('#campaign-chats li').allTextContents(), [`${HOSTILE} (Group)`, 'Team Alpha (Group)', 'Team Beta (Group)'])
  await page.locator('#campaign-select-shown').click()
  assert.is(await selectedCount(page), 3)
  assert.is(await page.locator('#campaign-chats input:checked').count(), 3)
  assert.is(await page.locator('#campaign-chat-count').textContent(), `3 chats selected · 3 of ${total} shown`)
  await page.locator('#campaign-clear').click()
  assert.is(await selectedCount(page), 0)
  assert.is(await page.locator('#campaign-chats input:checked').count(), 0)
  await page.locator('#campaign-select-shown').click()
  assert.is(await selectedCount(page), 3)

  await page.locator('#campaign-chat-filter').fill('alice')
  assert.equal(await page.locator('#campaign-chats li').allTextContents(), ['Alice (Contact)'])
  await page.locator(`#campaign-chats input[value="${ctx.alice.pnJid}"]`).check()
  assert.is(await selectedCount(page), 4)
  assert.is(await page.locator('#campaign-chat-count').textContent(), `4 chats selected (3 not shown by the search) · 1 of ${total} shown`)
  // Picks survive the search changing.
  await page.locator('#campaign-chat-filter').fill('')
  assert.is(await page.locator('#campaign-chats li').count(), total)
  assert.equal(
    await page.locator('#campaign-chats input:checked').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value).sort()),
    [ALPHA, BETA, GAMMA, ctx.alice.pnJid].sort())
})

web('the server\'s 400 is shown as it is, and nothing is created', async (ctx) => {
  const { page } = ctx
  await fillForm(page, 'Which colour?', ['Red', 'Blue', 'Green'], ['4', '2'])
  await page.locator('#campaign-create').click()
  await page.locator('#campaign-error').filter({ hasText: 'delayMs' }).waitFor()
  assert.is(await page.locator('#campaign-error').textContent(), 'delayMs.min must not exceed delayMs.max (4000 > 2000)')
  assert.equal((await ctx.server.get('/campaigns')).body, { success: true, campaigns: [] })
  assert.is(await page.locator('#campaign-list li').count(), 0)
  assert.is(await selectedCount(page), 4, 'the form keeps what was picked and typed')
  assert.is(await page.locator('#campaign-question').inputValue(), 'Which colour?')
  // Chromium logs the 400 answer itself; nothing else went wrong.
  assert.equal(ctx.problems, ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)'])
  ctx.problems = []
})

web('creates the campaign: progress runs to done, each chat\'s poll reaches the fake WhatsApp', async (ctx) => {
  const { page, fake } = ctx
  // Every progress figure the list shows, as it shows it.
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { __progress: string[] }).__progress = seen
    new MutationObserver(() => {
      const li = document.querySelector('#campaign-list li.campaign')
      const bar = li?.querySelector('progress')
      const figure = li && bar ? `${(li as HTMLElement).dataset.status} ${bar.value}/${bar.max}` : ''
      if (figure && seen[seen.length - 1] !== figure) seen.push(figure)
    }).observe(document.querySelector('#campaign-list')!, { subtree: true, childList: true, attributes: true, characterData: true })
  })
  await page.locator('#campaign-delay-min').fill('0')
  await page.locator('#campaign-delay-max').fill('0.1')
  await page.locator('#campaign-create').click()
  await page.locator('#campaign-ok').filter({ hasText: 'Campaign started: 4 chats' }).waitFor()
  assert.is(await page.locator('#campaign-error').textContent(), '')
  assert.is(await selectedCount(page), 0, 'the picks are cleared for the next campaign')
  ctx.campaignId = await newestId(page)
  assert.match(ctx.campaignId, /^cmp_/)

  const li = item(page, ctx.campaignId)
  await page.locator(`#campaign-list li.campaign[data-campaign-id="${ctx.campaignId}"][data-status="done"]`).waitFor({ timeout: 30_000 })
  assert.is(await li.locator('.campaign-title').textContent(), 'Which colour?')
  assert.is(await li.locator('.campaign-status').textContent(), 'done')
  assert.equal(await li.locator('progress').evaluate((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]), [4, 4])
  assert.match(await li.locator('.campaign-progress-text').textContent() ?? '', /^4 of 4 chats: 4 sent · /)
  assert.is(await li.locator('.campaign-actions button').count(), 0, 'nothing to pause or cancel once done')
  const seen = await page.evaluate(() => (window as unknown as { __progress: string[] }).__progress)
  assert.is(seen[seen.length - 1], 'done 4/4')
  const sentSeen = seen.map((s) => Number(/ (\d+)\//.exec(s)![1]))
  assert.equal([...sentSeen].sort((a, b) => a - b), sentSeen, `progress only goes forward: ${seen}`)

  // The page opened it: its chats, sent in the list's order (groups by name, then the contact).
  const detail = page.locator(`#campaign-detail[data-campaign-id="${ctx.campaignId}"]`)
  await detail.waitFor()
  await page.locator('#campaign-detail[data-status="done"]').waitFor()
  assert.is(await page.locator('#campaign-detail-question').textContent(), 'Which colour?')
  await page.locator('#campaign-chat-table tbody tr[data-state="sent"]').nth(3).waitFor()
  const rows = await page.locator('#campaign-chat-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-chat-id')))
  const k = await campaignOf(ctx.server, ctx.campaignId)
  assert.equal(rows, k.chats.map((c: { chatId: string }) => c.chatId))
  assert.equal([...rows].sort(), [ALPHA, BETA, GAMMA, ctx.alice.pnJid].sort())
  assert.equal(await page.locator('#campaign-chat-table thead th').allTextContents(), ['Chat', 'State', 'Red', 'Blue', 'Green', 'Error'])
  assert.is(await page.locator(`#campaign-chat-table tr[data-chat-id="${GAMMA}"] th`).textContent(), HOSTILE)
  assert.is(await page.locator('#campaign-chat-table img').count(), 0)

  // Each chat got one poll with the question and options typed on the page.
  ctx.polls = Object.fromEntries(k.chats.map((c: { chatId: string; pollMsgId: string }) => [c.chatId, c.pollMsgId]))
  for (const [chatId, pollId] of Object.entries(ctx.polls)) {
    const poll = await fake.waitForPoll(pollId, { timeoutMs: 15_000 })
    assert.ok(poll.to === chatId || (chatId === ctx.alice.pnJid && poll.to === ctx.alice.lidJid), `${pollId} went to ${poll.to}, not ${chatId}`)
    assert.ok(poll.voters.length >= 1, `someone in ${chatId} decrypted it`)
    for (const copy of poll.voters) {
      assert.is(copy.question, 'Which colour?')
      assert.equal(copy.options, ['Red', 'Blue', 'Green'])
    }
  }
  assert.is(fake.polls.filter((p) => Object.values(ctx.polls).includes(p.id)).length, 4, 'one poll per chat, none twice')
})

web('votes show live: the combined chart counts each person once, the per-chat table keeps each chat\'s own', async (ctx) => {
  const { page, alice, bob, carol, polls } = ctx
  await waitFor('the voters have their polls', () => (alice.receivedPoll(polls[ALPHA]!) && bob.receivedPoll(polls[ALPHA]!)
    && bob.receivedPoll(polls[BETA]!) && carol.receivedPoll(polls[BETA]!) && alice.receivedPoll(polls[alice.pnJid]!)) || undefined, 15_000)
  const t0 = Date.now()
  await alice.vote({ pollId: polls[ALPHA]!, options: ['Red'], senderTimestampMs: t0 + 1 })
  await bob.vote({ pollId: polls[ALPHA]!, options: ['Blue'], senderTimestampMs: t0 + 2 })
  await bob.vote({ pollId: polls[BETA]!, options: ['Green'], senderTimestampMs: t0 + 3 })
  await carol.vote({ pollId: polls[BETA]!, options: ['Red'], senderTimestampMs: t0 + 4 })

  // Bob counts once, with his newest (Green in Beta); his Blue still shows in Alpha's own row.
  await page.locator('#campaign-bars .bar-row[data-option="Red"][data-votes="2"]').waitFor()
  await page.locator('#campaign-bars .bar-row[data-option="Green"][data-votes="1"]').waitFor()
  await page.locator('#campaign-voters[data-voters="3"]').waitFor()
  assert.is(await page.locator('#campaign-bars .bar-row[data-option="Blue"]').getAttribute('data-votes'), '0')
  assert.is(await page.locator('#campaign-bars .bar-row[data-option="Red"] .bar-count').textContent(), '2 · 67%')
  assert.is(await page.locator('#campaign-bars .bar-row[data-option="Red"] .bar-fill').evaluate((el) => (el as HTMLElement).style.width), '67%')
  assert.match(await page.locator('#campaign-voters').textContent() ?? '', /^3 people counted/)
  const table = async () => {
    const out: Record<string, number[]> = {}
    for (const chat of [ALPHA, BETA, GAMMA, alice.pnJid]) out[chat] = await Promise.all(['Red', 'Blue', 'Green'].map(async (o) => Number(await cell(page, chat, o).textContent())))
    return out
  }
  await waitFor('the per-chat table follows', async () => (await table())[BETA]!.join() === '1,0,1' || undefined)
  assert.equal(await table(), { [ALPHA]: [1, 1, 0], [BETA]: [1, 0, 1], [GAMMA]: [0, 0, 0], [alice.pnJid]: [0, 0, 0] })
  await item(page, ctx.campaignId).locator('.campaign-progress-text', { hasText: '3 voters' }).waitFor()

  // Alice changes her mind in her own chat: she now counts for Green there, not Red in Alpha.
  await alice.vote({ pollId: polls[alice.pnJid]!, options: ['Green'], senderTimestampMs: t0 + 5 })
  await page.locator('#campaign-bars .bar-row[data-option="Green"][data-votes="2"]').waitFor()
  await page.locator('#campaign-bars .bar-row[data-option="Red"][data-votes="1"]').waitFor()
  await waitFor('her own row shows it', async () => (await cell(page, alice.pnJid, 'Green').textContent()) === '1' || undefined)
  assert.equal(await table(), { [ALPHA]: [1, 1, 0], [BETA]: [1, 0, 1], [GAMMA]: [0, 0, 0], [alice.pnJid]: [0, 0, 1] })
  assert.is(await page.locator('#campaign-voters').getAttribute('data-voters'), '3')
  const k = await campaignOf(ctx.server, ctx.campaignId)
  assert.equal(k.results, { Red: 1, Blue: 0, Green: 2 }, 'the page shows what the server counts')
})

web('downloads results.csv from its link', async (ctx) => {
  const { page } = ctx
  assert.is(await page.locator('#campaign-csv').getAttribute('href'), `/campaigns/${ctx.campaignId}/results.csv`)
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#campaign-csv').click()])
  assert.is(download.suggestedFilename(), `campaign-${ctx.campaignId}.csv`)
  const csv = readFileSync((await download.path())!, 'utf8')
  assert.match(csv, /^option,votes\r\nRed,1\r\nBlue,0\r\nGreen,2\r\n\r\nchat,name,Red,Blue,Green\r\n/)
  assert.match(csv, new RegExp(`\\r\\n${ALPHA.replace(/\./g, '\\.')},Team Alpha,1,1,0\\r\\n`))
  assert.match(csv, new RegExp(`\\r\\n${ctx.alice.pnJid.replace(/\./g, '\\.')},Green,`))
})

web('pause, resume and cancel a slower campaign from the page; the buttons follow its status', async (ctx) => {
  const { page, server, fake } = ctx
  const total = await page.locator('#campaign-chats li').count()
  await page.locator('#campaign-select-shown').click()
  assert.is(await selectedCount(page), total)
  await fillForm(page, 'Dinner?', ['Early', 'Late'], [String(SLOW_S), String(SLOW_S)])
  await page.locator('#campaign-create').click()
  await page.locator('#campaign-ok').filter({ hasText: `Campaign started: ${total} chats` }).waitFor()
  const id = await newestId(page)
  assert.is.not(id, ctx.campaignId)
  const li = item(page, id)
  const status = (s: string) => page.locator(`#campaign-list li.campaign[data-campaign-id="${id}"][data-status="${s}"]`)
  const buttons = () => li.locator('.campaign-actions button').allTextContents()
  assert.is(await page.locator('#campaign-list li.campaign').count(), 2, 'both campaigns listed, the newest first')
  await status('running').waitFor()
  assert.equal(await buttons(), ['Pause', 'Cancel'])

  // The first chat goes at once; the next only SLOW_S seconds later: pause in between.
  await page.locator(`#campaign-list li.campaign[data-campaign-id="${id}"][data-sent="1"]`).waitFor()
  await li.locator('button[data-action="pause"]').click()
  await status('paused').waitFor()
  assert.equal(await buttons(), ['Resume', 'Cancel'])
  assert.is(await page.locator('#campaign-detail').getAttribute('data-campaign-id'), id, 'the new campaign is the one open')
  // A send under way when paused still finishes; then nothing moves for longer than the pause.
  const held = await waitFor('no send under way', async () => {
    const k = await campaignOf(server, id)
    return k.chats.some((c: { state: string }) => c.state === 'sending') ? undefined : k
  })
  assert.is(held.status, 'paused')
  const pollsOf = (k: { chats: { pollMsgId?: string }[] }) => new Set(k.chats.flatMap((c) => (c.pollMsgId ? [c.pollMsgId] : [])))
  await page.waitForTimeout((SLOW_S + 0.5) * 1000)
  const still = await campaignOf(server, id)
  assert.is(still.sent, held.sent, 'nothing sent while paused')
  assert.ok(still.sent < total)
  assert.is(await li.getAttribute('data-sent'), String(still.sent))
  const fakeSaw = fake.polls.filter((p) => pollsOf(still).has(p.id)).length
  assert.is(fakeSaw, still.sent, 'the fake received only the polls sent before the pause')

  await li.locator('button[data-action="resume"]').click()
  await status('running').waitFor()
  assert.equal(await buttons(), ['Pause', 'Cancel'])
  // Resumed, it sends the next chat at once (its pause has long passed).
  await page.locator(`#campaign-list li.campaign[data-campaign-id="${id}"][data-sent="${still.sent + 1}"]`).waitFor({ timeout: 10_000 })
  await li.locator('button[data-action="cancel"]').click()
  await status('cancelled').waitFor()
  assert.equal(await buttons(), [], 'nothing to do once cancelled')
  assert.is(await li.locator('.campaign-status').textContent(), 'cancelled')

  // Opened, it shows the chats that never got the poll.
  await li.locator('.campaign-title').click()
  await page.locator(`#campaign-detail[data-campaign-id="${id}"][data-status="cancelled"]`).waitFor()
  await page.locator('#campaign-chat-table tbody tr[data-state="cancelled"]').first().waitFor()
  const stopped = await waitFor('no send under way', async () => {
    const k = await campaignOf(server, id)
    return k.chats.some((c: { state: string }) => c.state === 'sending') ? undefined : k
  })
  await page.waitForTimeout((SLOW_S + 0.5) * 1000)
  const end = await campaignOf(server, id)
  assert.is(end.sent, stopped.sent, 'nothing sent after the cancel')
  assert.ok(end.sent < total, `cancelled before the end (${end.sent} of ${total} sent)`)
  const cancelled = end.chats.filter((c: { state: string }) => c.state === 'cancelled').map((c: { chatId: string }) => c.chatId)
  assert.ok(cancelled.length >= 1)
  assert.equal(
    await page.locator('#campaign-chat-table tbody tr[data-state="cancelled"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-chat-id'))),
    cancelled)
  assert.is(await page.locator('#campaign-chat-table tbody tr[data-state="cancelled"] td').nth(0).textContent(), 'not sent (cancelled)')
  assert.is(fake.polls.filter((p) => pollsOf(end).has(p.id)).length, end.sent, 'no cancelled chat got the poll')
  assert.equal(ctx.problems, [], 'no console errors, no CSP violations')
})

web('with API_TOKEN: the panel lists, creates, follows and downloads with the token', async (ctx) => {
  // The fake WhatsApp delivers to one linked device: the guarded server's, once the first is gone.
  await ctx.page.close()
  assert.is(await ctx.server.stop(), 0)
  const token = 'e2e-campaign-token-0123456789'
  await withServer({ waWsUrl: ctx.fake.url, token, env: { LOG_LEVEL: 'info', CAMPAIGN_MAX_PER_MIN: '1000' } }, async (guarded) => {
    const page = await openPage(ctx, guarded.url)
    await page.locator('#token-dialog[open]').waitFor()
    await page.locator('#token').fill(token)
    await page.locator('#token-form button').click()
    await page.locator('#campaigns-empty').waitFor({ state: 'visible' })
    assert.is(await page.locator('#campaigns-error').textContent(), '', 'the list loaded with the token')
    await linkByPairingCode(page, ctx.fake, '15550000181')
    await waitForChats(page, ['Team Alpha (Group)', 'Family (Group)'])

    await page.locator('#campaign-chat-filter').fill('family')
    await page.locator('#campaign-select-shown').click()
    await page.locator('#campaign-chat-filter').fill('alpha')
    await page.locator('#campaign-select-shown').click()
    assert.is(await selectedCount(page), 2)
    await fillForm(page, 'Guarded?', ['Yes', 'No'], ['0', '0.1'])
    await page.locator('#campaign-create').click()
    await page.locator('#campaign-ok').filter({ hasText: 'Campaign started: 2 chats' }).waitFor()
    const id = await newestId(page)
    await page.locator(`#campaign-list li.campaign[data-campaign-id="${id}"][data-status="done"]`).waitFor({ timeout: 30_000 })
    await page.locator(`#campaign-detail[data-campaign-id="${id}"][data-status="done"]`).waitFor()
    const k = (await guarded.get(`/campaigns/${id}`)).body.campaign
    // In the picker's order: by name.
    assert.equal(k.chats.map((c: { chatId: string; state: string }) => [c.chatId, c.state]), [[FAMILY, 'sent'], [ALPHA, 'sent']])

    const poll = k.chats.find((c: { chatId: string }) => c.chatId === FAMILY).pollMsgId
    await ctx.fake.waitForPoll(poll, { timeoutMs: 15_000 })
    await waitFor('Dave has the poll', () => ctx.dave.receivedPoll(poll) || undefined, 15_000)
    await ctx.dave.vote({ pollId: poll, options: ['Yes'] })
    // Live over the token-guarded Socket.IO, then the per-chat part over token-guarded HTTP.
    await page.locator('#campaign-bars .bar-row[data-option="Yes"][data-votes="1"]').waitFor()
    await waitFor('the per-chat table follows', async () => (await cell(page, FAMILY, 'Yes').textContent()) === '1' || undefined)

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#campaign-csv').click()])
    assert.match(readFileSync((await download.path())!, 'utf8'), /^option,votes\r\nYes,1\r\nNo,0\r\n/)
    await page.close()
  })
  assert.equal(ctx.problems.filter((p) => !/401|Unauthorized/i.test(p)), [])
})

web.run()
