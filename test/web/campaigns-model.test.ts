import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_CAMPAIGN_DELAY, MAX_CAMPAIGN_CHATS, MAX_CAMPAIGN_DELAY_MS, type CampaignView } from '../../contract/campaigns.ts'
import { openApiDocument } from '../../handlers/lib/openapi.ts'
import {
  applyCampaignUpdate, campaignActions, campaignLimitsFrom, campaignRequest, campaignResultRows, campaignStatusText, keepLiveFigures, msToSeconds,
  perChatRows, pickerRows, progressOf, secondsToMs, selectedChatIds, selectionText, selectShown,
} from '../../web/app/campaigns-model.js'
import { sampleCampaign } from '../fakes.ts'

const model = suite('web/app/campaigns-model')

const CHATS = [
  { id: '120363000000000001@g.us', name: 'Team Alpha', isGroup: true },
  { id: '120363000000000002@g.us', name: 'Team Beta', isGroup: true },
  { id: '120363000000000003@g.us', name: 'Family', isGroup: true },
  { id: '15551110001@s.whatsapp.net', name: 'Alice', isGroup: false },
  { id: '15551110002@s.whatsapp.net', name: '', isGroup: false },
]

model('campaignLimitsFrom reads the chat limit and the pauses from the served OpenAPI document', () => {
  const limits = campaignLimitsFrom(JSON.parse(JSON.stringify(openApiDocument)))
  assert.equal(limits, { chats: MAX_CAMPAIGN_CHATS, delayMaxMs: MAX_CAMPAIGN_DELAY_MS, defaultDelayMs: { ...DEFAULT_CAMPAIGN_DELAY } })
  assert.throws(() => campaignLimitsFrom({}), /campaign limits/)
})

model('pickerRows: the chats the search shows, labelled, with their checkbox state', () => {
  const rows = pickerRows(CHATS, ' team ', new Set(['120363000000000002@g.us', '15551110001@s.whatsapp.net']))
  assert.equal(rows, [
    { id: '120363000000000001@g.us', label: 'Team Alpha (Group)', checked: false },
    { id: '120363000000000002@g.us', label: 'Team Beta (Group)', checked: true },
  ])
  assert.is(pickerRows(CHATS, '', new Set()).length, 5)
  assert.is(pickerRows(CHATS, '15551110002', new Set())[0]!.label, '+15551110002 (Contact)')
})

model('selectShown adds every chat shown and keeps the hidden ones picked; selectedChatIds keeps list order', () => {
  const before = new Set(['15551110001@s.whatsapp.net'])
  const after = selectShown(before, CHATS, 'team')
  assert.equal([...before], ['15551110001@s.whatsapp.net'], 'the old selection is not changed')
  assert.equal(selectedChatIds(CHATS, after), ['120363000000000001@g.us', '120363000000000002@g.us', '15551110001@s.whatsapp.net'])
  // a chat no longer listed (another account, gone from WhatsApp) is not sent to
  assert.equal(selectedChatIds(CHATS, new Set(['9@g.us', '120363000000000003@g.us'])), ['120363000000000003@g.us'])
})

model('selectionText: counts, hidden picks, and the limit', () => {
  assert.match(selectionText({ selected: 0, selectedShown: 0, shown: 0, total: 0, max: 1000 }), /No chats yet/)
  assert.is(selectionText({ selected: 1, selectedShown: 1, shown: 5, total: 5, max: 1000 }), '1 chat selected · 5 of 5 shown')
  assert.is(selectionText({ selected: 3, selectedShown: 2, shown: 2, total: 5, max: 1000 }), '3 chats selected (1 not shown by the search) · 2 of 5 shown')
  assert.is(selectionText({ selected: 1001, selectedShown: 1001, shown: 1200, total: 1200, max: 1000 }),
    '1001 chats selected · 1200 of 1200 shown · a campaign takes at most 1,000 chats')
})

model('secondsToMs and msToSeconds', () => {
  assert.is(secondsToMs('2'), 2000)
  assert.is(secondsToMs(' 0.1 '), 100)
  assert.is(secondsToMs('1,5'), 1500)
  assert.is(secondsToMs('.25'), 250)
  assert.is(secondsToMs('0'), 0)
  for (const bad of ['', 'x', '-1', '1e3', '2 s', '1.2.3']) assert.ok(Number.isNaN(secondsToMs(bad)), bad)
  assert.is(msToSeconds(2000), '2')
  assert.is(msToSeconds(100), '0.1')
})

model('campaignRequest: the POST /campaigns body; only what cannot be sent at all is caught here', () => {
  const form = { chatIds: ['1@g.us', '2@g.us'], question: ' Lunch? ', options: ['Pizza', ' ', 'Sushi', ''], multi: true, delayMin: '0', delayMax: '0.1' }
  assert.equal(campaignRequest(form), {
    ok: true,
    body: { chatIds: ['1@g.us', '2@g.us'], question: ' Lunch? ', options: ['Pizza', 'Sushi'], allowMultipleAnswers: true, delayMs: { min: 0, max: 100 } },
  })
  const problem = (over: Partial<typeof form>) => { const r = campaignRequest({ ...form, ...over }); return r.ok ? null : r.field }
  assert.is(problem({ chatIds: [] }), 'chats')
  assert.is(problem({ delayMin: 'soon' }), 'delayMin')
  assert.is(problem({ delayMax: '' }), 'delayMax')
  // min > max, an empty question, no options: the server's 400 says so, naming the field
  const min = campaignRequest({ ...form, delayMin: '4', delayMax: '2', question: '', options: [] })
  assert.ok(min.ok)
  assert.equal(min.ok && min.body.delayMs, { min: 4000, max: 2000 })
})

model('status words and the actions each status allows', () => {
  assert.is(campaignStatusText('running'), 'sending')
  assert.is(campaignStatusText('cancelled'), 'cancelled')
  assert.equal(campaignActions('running'), ['pause', 'cancel'])
  assert.equal(campaignActions('paused'), ['resume', 'cancel'])
  assert.equal(campaignActions('done'), [])
  assert.equal(campaignActions('cancelled'), [])
})

model('progressOf: sent and failed of all, floored to a whole percent', () => {
  assert.equal(progressOf({ sent: 2, failed: 1, total: 4 }), { done: 3, total: 4, percent: 75, text: '3 of 4 chats: 2 sent, 1 failed' })
  assert.equal(progressOf({ sent: 2, failed: 0, total: 3 }), { done: 2, total: 3, percent: 66, text: '2 of 3 chats: 2 sent' })
  assert.equal(progressOf({ sent: 1, failed: 0, total: 1 }), { done: 1, total: 1, percent: 100, text: '1 of 1 chat: 1 sent' })
  assert.is(progressOf({ sent: 0, failed: 0, total: 0 }).percent, 0)
})

model('applyCampaignUpdate takes the live figures, keeps what the update lacks', () => {
  const k = sampleCampaign()
  const next = applyCampaignUpdate(k, { campaignId: k.id, status: 'done', sent: 3, failed: 1, total: 4, results: { Pizza: 2, Sushi: 1 }, voters: 3 })
  assert.is(next.status, 'done')
  assert.is(next.sent, 3)
  assert.equal(next.results, { Pizza: 2, Sushi: 1 })
  assert.is(next.voters, 3, 'the voters count comes with the update')
  assert.equal(next.chats, k.chats)
  assert.is(k.status, 'running', 'the old one is not changed')
})

model('keepLiveFigures: an answer requested before a live change keeps the live figures, takes the rest', () => {
  const live = applyCampaignUpdate(sampleCampaign(), { campaignId: 'cmp_1', status: 'done', sent: 3, failed: 1, total: 4, results: { Pizza: 2, Sushi: 1 }, voters: 3 })
  const older = sampleCampaign({ voters: 1, chats: [] })
  const merged = keepLiveFigures(older, live, true)
  assert.equal([merged.status, merged.sent, merged.failed, merged.total, merged.results, merged.voters], ['done', 3, 1, 4, { Pizza: 2, Sushi: 1 }, 3])
  assert.equal(merged.chats, [])
  assert.is(keepLiveFigures(older, live, false), older, 'nothing changed since the request: the answer as it is')
  assert.is(keepLiveFigures(older, null, true), older, 'nothing held')
  assert.is(keepLiveFigures(older, { ...live, id: 'cmp_2' }, true), older, 'another campaign')
})

model('campaignResultRows: option order, share of the people counted', () => {
  const k = sampleCampaign({ options: ['Pizza', 'Sushi', 'Tacos'], results: { Pizza: 2, Sushi: 1 }, voters: 4 })
  assert.equal(campaignResultRows(k), [
    { option: 'Pizza', votes: 2, share: 0.5 },
    { option: 'Sushi', votes: 1, share: 0.25 },
    { option: 'Tacos', votes: 0, share: 0 },
  ])
  assert.equal(campaignResultRows({ ...k, voters: 0, results: {} }).map((r) => r.share), [0, 0, 0])
})

model('perChatRows: sending order, names (or the number), state in words, own tally in option order, the error', () => {
  const k: CampaignView = sampleCampaign({
    chats: [
      ...sampleCampaign().chats,
      { chatId: '15551110009@s.whatsapp.net', name: '', state: 'cancelled' },
    ],
  })
  assert.equal(perChatRows(k), [
    { chatId: '120363000000000001@g.us', name: 'Team', state: 'sent', stateText: 'sent', counts: [1, 0], error: '' },
    { chatId: '120363000000000002@g.us', name: 'Family', state: 'sent', stateText: 'sent', counts: [0, 1], error: '' },
    { chatId: '15551110001@s.whatsapp.net', name: 'Alice', state: 'failed', stateText: 'failed', counts: null, error: 'WhatsApp did not accept the poll: not-authorized' },
    { chatId: '15551110002@s.whatsapp.net', name: 'Bob', state: 'queued', stateText: 'waiting', counts: null, error: '' },
    { chatId: '15551110009@s.whatsapp.net', name: '+15551110009', state: 'cancelled', stateText: 'not sent (cancelled)', counts: null, error: '' },
  ])
  // an option missing from a chat's tally counts 0
  assert.equal(perChatRows({ ...k, perChat: { '120363000000000001@g.us': { Sushi: 2 } } })[0]!.counts, [0, 2])
})

model.run()
