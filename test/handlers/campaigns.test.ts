import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_CAMPAIGN_DELAY, MAX_CAMPAIGN_CHATS, MAX_CAMPAIGN_DELAY_MS } from '../../contract/campaigns.ts'
import { campaign } from '../../handlers/campaign.ts'
import { campaignCancel, campaignPause, campaignResume } from '../../handlers/campaign-actions.ts'
import { campaignResultsCsv } from '../../handlers/campaign-results-csv.ts'
import { campaignsCreate } from '../../handlers/campaigns-create.ts'
import { campaignsList } from '../../handlers/campaigns-list.ts'
import { fakeCampaigns, fakeCtx, get, invoke, invokeRoute, post, sampleCampaign } from '../fakes.ts'

const GROUP = '120363000000000001@g.us'
const good = { chatIds: [GROUP, '15551110001@s.whatsapp.net', '123456789012345@lid'], question: 'Lunch?', options: ['Pizza', 'Sushi'] }
/** `n` distinct group ids */
const groups = (n: number) => Array.from({ length: n }, (_, i) => `1203630${String(i).padStart(11, '0')}@g.us`)

// --- POST /campaigns

const create = suite('POST /campaigns')

create('commits the campaign: 202 with its id and total; defaults: single answer, 2–4 s apart', async () => {
  const campaigns = fakeCampaigns()
  const res = await invoke(campaignsCreate, post('/campaigns', good), fakeCtx({ campaigns }))
  assert.is(res.status, 202)
  assert.equal(res.body, { success: true, campaignId: 'cmp_new1', total: 3 })
  assert.equal(campaigns.calls.create, [{ chatIds: good.chatIds, question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1, delayMs: { ...DEFAULT_CAMPAIGN_DELAY } }])
})

create('trims the texts; allowMultipleAnswers → selectableCount 0; delayMs as given, bounds included', async () => {
  const campaigns = fakeCampaigns()
  const body = { ...good, question: ' Lunch? ', options: [' A ', 'B'], allowMultipleAnswers: true, delayMs: { min: 0, max: MAX_CAMPAIGN_DELAY_MS } }
  assert.is((await invoke(campaignsCreate, post('/campaigns', body), fakeCtx({ campaigns }))).status, 202)
  assert.equal(campaigns.calls.create[0], { chatIds: good.chatIds, question: 'Lunch?', options: ['A', 'B'], selectableCount: 0, delayMs: { min: 0, max: MAX_CAMPAIGN_DELAY_MS } })
  const same = { ...good, delayMs: { min: 500, max: 500 } }
  assert.is((await invoke(campaignsCreate, post('/campaigns', same), fakeCtx({ campaigns }))).status, 202, 'min = max is one fixed pause')
})

create(`takes ${MAX_CAMPAIGN_CHATS} chats`, async () => {
  const campaigns = fakeCampaigns()
  const res = await invoke(campaignsCreate, post('/campaigns', { ...good, chatIds: groups(MAX_CAMPAIGN_CHATS) }), fakeCtx({ campaigns }))
  assert.is(res.status, 202)
  assert.is(res.body.total, MAX_CAMPAIGN_CHATS)
})

const invalid: Array<[string, unknown, string, RegExp?]> = [
  ['chatIds missing', { ...good, chatIds: undefined }, 'chatIds', /array/],
  ['chatIds not an array', { ...good, chatIds: GROUP }, 'chatIds', /array/],
  ['0 chats', { ...good, chatIds: [] }, 'chatIds', /1 to 1,000 chats, got 0/],
  [`${MAX_CAMPAIGN_CHATS + 1} chats`, { ...good, chatIds: groups(MAX_CAMPAIGN_CHATS + 1) }, 'chatIds', /1 to 1,000 chats, got 1001/],
  ['a bad chat id', { ...good, chatIds: [GROUP, GROUP.replace('@g.us', '@g.uss'), 'bob'] }, 'chatIds[1]', /WhatsApp JID/],
  ['a broadcast chat id', { ...good, chatIds: ['status@broadcast'] }, 'chatIds[0]'],
  ['a chat id not a string', { ...good, chatIds: [GROUP, 15551110001] }, 'chatIds[1]'],
  ['duplicate chat ids', { ...good, chatIds: [GROUP, '15551110001@s.whatsapp.net', '15551110002@s.whatsapp.net', GROUP] }, 'chatIds[3]', /repeats chatIds\[0\]/],
  ['no question', { ...good, question: '  ' }, 'question'],
  ['no options', { ...good, options: [] }, 'options'],
  ['duplicate options', { ...good, options: ['A', 'A '] }, 'options'],
  ['allowMultipleAnswers not boolean', { ...good, allowMultipleAnswers: 'yes' }, 'allowMultipleAnswers'],
  ['delayMs a number', { ...good, delayMs: 2000 }, 'delayMs', /object/],
  ['delayMs an array', { ...good, delayMs: [1, 2] }, 'delayMs', /object/],
  ['delayMs null', { ...good, delayMs: null }, 'delayMs', /object/],
  ['delayMs.min missing', { ...good, delayMs: { max: 10 } }, 'delayMs.min'],
  ['delayMs.min negative', { ...good, delayMs: { min: -1, max: 10 } }, 'delayMs.min'],
  ['delayMs.min a fraction', { ...good, delayMs: { min: 1.5, max: 10 } }, 'delayMs.min'],
  ['delayMs.max a string', { ...good, delayMs: { min: 1, max: '10' } }, 'delayMs.max'],
  ['delayMs.max over the limit', { ...good, delayMs: { min: 1, max: MAX_CAMPAIGN_DELAY_MS + 1 } }, 'delayMs.max', /3,600,000/],
  ['delay min > max', { ...good, delayMs: { min: 4000, max: 2000 } }, 'delayMs.min', /must not exceed delayMs\.max \(4000 > 2000\)/],
]
for (const [name, body, field, detail] of invalid) {
  create(`400 naming ${field}, nothing created: ${name}`, async () => {
    const campaigns = fakeCampaigns()
    const res = await invoke(campaignsCreate, post('/campaigns', body), fakeCtx({ campaigns }))
    assert.is(res.status, 400)
    assert.is(res.body.success, false)
    assert.ok(res.body.message.startsWith(`${field} `), res.body.message)
    if (detail) assert.match(res.body.message, detail)
    assert.equal(campaigns.calls.create, [])
  })
}

create('400 for malformed JSON or an array body, 415 for a form, nothing created', async () => {
  const campaigns = fakeCampaigns()
  const ctx = fakeCtx({ campaigns })
  assert.is((await invoke(campaignsCreate, post('/campaigns', '{"chatIds":'), ctx)).status, 400)
  assert.is((await invoke(campaignsCreate, post('/campaigns', '[1]'), ctx)).status, 400)
  assert.is((await invoke(campaignsCreate, post('/campaigns', 'chatIds=1', { 'content-type': 'application/x-www-form-urlencoded' }), ctx)).status, 415)
  assert.equal(campaigns.calls.create, [])
})

create('404 where the runtime runs no campaigns', async () => {
  const res = await invoke(campaignsCreate, post('/campaigns', good), fakeCtx())
  assert.is(res.status, 404)
  assert.match(res.body.message, /not available/)
})

create.run()

// --- GET /campaigns, GET /campaigns/:id

const read = suite('GET /campaigns, GET /campaigns/:id')

read('lists newest first, without the chat lists', async () => {
  const campaigns = fakeCampaigns([sampleCampaign({ id: 'cmp_old' }), sampleCampaign({ id: 'cmp_new', status: 'done' })])
  const res = await invoke(campaignsList, get('/campaigns'), fakeCtx({ campaigns }))
  assert.is(res.status, 200)
  assert.equal(res.body.campaigns.map((c: { id: string }) => c.id), ['cmp_new', 'cmp_old'])
  for (const c of res.body.campaigns) {
    assert.not.ok('chats' in c)
    assert.not.ok('perChat' in c)
  }
  assert.equal(res.body.campaigns[1].results, { Pizza: 1, Sushi: 1 })
})

read('one campaign with its chats and per-chat tallies; 404 for an unknown id', async () => {
  const campaigns = fakeCampaigns()
  const one = await invoke(campaign, get('/campaigns/cmp_1'), fakeCtx({ campaigns }), '/campaigns/:id')
  assert.is(one.status, 200)
  assert.equal(one.body, { success: true, campaign: sampleCampaign() })
  const none = await invoke(campaign, get('/campaigns/cmp_x'), fakeCtx({ campaigns }), '/campaigns/:id')
  assert.is(none.status, 404)
  assert.equal(none.body, { success: false, message: 'no campaign with id cmp_x' })
})

read.run()

// --- POST /campaigns/:id/pause | resume | cancel

const actions = suite('POST /campaigns/:id/pause | resume | cancel')
const handlers = { pause: campaignPause, resume: campaignResume, cancel: campaignCancel }
const act = (name: keyof typeof handlers, id: string, campaigns: ReturnType<typeof fakeCampaigns>) =>
  invokeRoute({ method: 'POST', path: `/campaigns/:id/${name}` }, handlers[name], new Request(`http://localhost/campaigns/${id}/${name}`, { method: 'POST' }), fakeCtx({ campaigns }))

actions('pause, resume, cancel: 200 with the status after it (no body needed)', async () => {
  const campaigns = fakeCampaigns()
  assert.equal((await act('pause', 'cmp_1', campaigns)).body, { success: true, campaignId: 'cmp_1', status: 'paused' })
  assert.equal((await act('pause', 'cmp_1', campaigns)).body, { success: true, campaignId: 'cmp_1', status: 'paused' }, 'pausing again changes nothing')
  assert.equal((await act('resume', 'cmp_1', campaigns)).body, { success: true, campaignId: 'cmp_1', status: 'running' })
  assert.equal((await act('cancel', 'cmp_1', campaigns)).body, { success: true, campaignId: 'cmp_1', status: 'cancelled' })
  assert.equal(campaigns.calls.actions, ['pause cmp_1', 'pause cmp_1', 'resume cmp_1', 'cancel cmp_1'])
})

actions('404 for an unknown campaign, 409 once it has ended', async () => {
  const campaigns = fakeCampaigns([sampleCampaign({ id: 'cmp_done', status: 'done' }), sampleCampaign({ id: 'cmp_gone', status: 'cancelled' })])
  for (const name of ['pause', 'resume', 'cancel'] as const) {
    const unknown = await act(name, 'cmp_x', campaigns)
    assert.is(unknown.status, 404, name)
    assert.equal(unknown.body, { success: false, message: 'no campaign with id cmp_x' })
    for (const id of ['cmp_done', 'cmp_gone']) {
      const ended = await act(name, id, campaigns)
      assert.is(ended.status, 409, `${name} ${id}`)
      assert.is(ended.body.success, false)
      assert.match(ended.body.message, new RegExp(`campaign ${id} has ended`))
    }
  }
  assert.is(campaigns.get('cmp_done')?.status, 'done')
  assert.is(campaigns.get('cmp_gone')?.status, 'cancelled')
})

actions.run()

// --- GET /campaigns/:id/results.csv

const csv = suite('GET /campaigns/:id/results.csv')

csv('combined rows, per-chat rows (chats sent), voter rows; quoted and formula-safe', async () => {
  const k = sampleCampaign({
    options: ['Red, dark', '=SUM(A1)'],
    results: { 'Red, dark': 1, '=SUM(A1)': 2 },
    chats: [
      { chatId: GROUP, name: '+cmd|calc', state: 'sent', pollMsgId: 'P1' },
      { chatId: '15551110001@s.whatsapp.net', name: '@Alice "A"', state: 'sent', pollMsgId: 'P2' },
      { chatId: '15551110002@s.whatsapp.net', name: 'Bob', state: 'queued' },
    ],
    perChat: { [GROUP]: { 'Red, dark': 1, '=SUM(A1)': 1 }, '15551110001@s.whatsapp.net': { '=SUM(A1)': 1 } },
  })
  const campaigns = fakeCampaigns([k], { cmp_1: [
    { voter: '15551110003@s.whatsapp.net', selected: ['Red, dark', '=SUM(A1)'], chatId: GROUP, senderTimestampMs: 1732470000123 },
    { voter: '-15551110004@lid', selected: ['=SUM(A1)'], chatId: '15551110001@s.whatsapp.net', senderTimestampMs: 1732470000456 },
  ] })
  const res = await invoke(campaignResultsCsv, get('/campaigns/cmp_1/results.csv'), fakeCtx({ campaigns }), '/campaigns/:id/results.csv')
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/)
  assert.is(res.headers.get('content-disposition'), 'attachment; filename="campaign-cmp_1.csv"')
  assert.is(res.body, [
    'option,votes',
    '"Red, dark",1',
    "'=SUM(A1),2",
    '',
    "chat,name,\"Red, dark\",'=SUM(A1)",
    `${GROUP},'+cmd|calc,1,1`,
    "15551110001@s.whatsapp.net,\"'@Alice \"\"A\"\"\",0,1",
    '',
    'voter,options,chat,sender_timestamp_ms',
    `15551110003@s.whatsapp.net,"Red, dark; =SUM(A1)",${GROUP},1732470000123`,
    "'-15551110004@lid,'=SUM(A1),15551110001@s.whatsapp.net,1732470000456",
    '',
  ].join('\r\n'))
})

csv('404 as JSON for an unknown campaign', async () => {
  const res = await invoke(campaignResultsCsv, get('/campaigns/X/results.csv'), fakeCtx({ campaigns: fakeCampaigns() }), '/campaigns/:id/results.csv')
  assert.is(res.status, 404)
  assert.is(res.body.success, false)
})

csv.run()
