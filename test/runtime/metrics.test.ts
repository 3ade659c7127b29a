import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createMetrics, type JournalStats } from '../../runtime/metrics.ts'
import { createEmitter } from '../../contract/events.ts'
import { samplePoll } from '../fakes.ts'

const metrics = suite('createMetrics')
const zero = (): JournalStats => ({ polls: 0, decrypted: 0, duplicate: 0, rejected: 0, pending: {} })
const empty = () => ({ default: zero() })

/** The value of one sample line, e.g. `pollwire_votes_failed_total{reason="bad_iv"}`. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

metrics('vote hooks count by source and reason', async () => {
  const m = createMetrics({ stats: empty, processMetrics: false })
  const d = m.account('default')
  d.voteReceived('notify'); d.voteReceived('notify'); d.voteReceived('signal')
  d.voteDecrypted()
  d.voteFailed('bad_iv')
  d.votePending('unknown_poll'); d.votePending('unknown_poll')
  m.account('shop').voteDecrypted()
  const text = await m.text()
  assert.is(sample(text, 'pollwire_votes_received_total{account="default",source="notify"}'), 2)
  assert.is(sample(text, 'pollwire_votes_received_total{account="default",source="signal"}'), 1)
  assert.is(sample(text, 'pollwire_votes_decrypted_total{account="default"}'), 1)
  assert.is(sample(text, 'pollwire_votes_decrypted_total{account="shop"}'), 1)
  assert.is(sample(text, 'pollwire_votes_failed_total{account="default",reason="bad_iv"}'), 1)
  assert.is(sample(text, 'pollwire_votes_pending_total{account="default",reason="unknown_poll"}'), 2)
  assert.is(sample(text, 'pollwire_votes_received_total{account="shop",source="notify"}'), undefined, "one account's votes are not another's")
})

metrics('reasons beyond the cap are counted as other', async () => {
  const m = createMetrics({ stats: empty, processMetrics: false })
  for (let i = 0; i < 40; i++) m.account('default').voteFailed(`reason_${i}`)
  const text = await m.text()
  assert.is(text.split('\n').filter((l) => l.startsWith('pollwire_votes_failed_total{')).length, 17)
  assert.is(sample(text, 'pollwire_votes_failed_total{account="default",reason="other"}'), 24)
})

metrics('the journal, polls and pending votes are read once per scrape', async () => {
  let reads = 0
  let stats: JournalStats = { polls: 1, decrypted: 0, duplicate: 0, rejected: 0, pending: {} }
  let accounts: Record<string, JournalStats> = {}
  const m = createMetrics({ stats: () => { reads++; return { default: stats, ...accounts } }, processMetrics: false })
  assert.is(sample(await m.text(), 'pollwire_polls{account="default"}'), 1)
  assert.is(reads, 1)
  stats = { polls: 5, decrypted: 7, duplicate: 2, rejected: 1, pending: { no_key: 3, unknown_poll: 1 } }
  accounts = { shop: { ...zero(), polls: 2, pending: { no_key: 1 } } }
  const text = await m.text()
  assert.is(reads, 2)
  assert.is(sample(text, 'pollwire_polls{account="default"}'), 5)
  assert.is(sample(text, 'pollwire_polls{account="shop"}'), 2)
  assert.is(sample(text, 'pollwire_journal_votes{account="default",state="decrypted"}'), 7)
  assert.is(sample(text, 'pollwire_journal_votes{account="default",state="duplicate"}'), 2)
  assert.is(sample(text, 'pollwire_journal_votes{account="default",state="rejected"}'), 1)
  assert.is(sample(text, 'pollwire_journal_votes{account="default",state="pending"}'), 4)
  assert.is(sample(text, 'pollwire_journal_votes{account="shop",state="pending"}'), 1)
  assert.is(sample(text, 'pollwire_votes_pending{account="default",reason="no_key"}'), 3)
  assert.is(sample(text, 'pollwire_votes_pending{account="shop",reason="no_key"}'), 1)
  stats = { ...stats, pending: {} }
  accounts = {}
  const later = await m.text()
  assert.not.match(later, /pollwire_votes_pending\{account="default",reason="no_key"\}/, 'a resolved reason disappears')
  assert.not.match(later, /account="shop"/, 'a removed account disappears')
})

metrics('session events: state, reconnects, polls created, tally updates', async () => {
  const m = createMetrics({ stats: empty, processMetrics: false })
  const emitter = createEmitter()
  const off = m.watch(emitter, 'default')
  const shop = createEmitter()
  m.watch(shop, 'shop')
  shop.emit('status', 'connecting')
  shop.emit('status', 'qr_pending')
  for (const s of ['connecting', 'qr_pending', 'connecting', 'ready', 'disconnected', 'connecting', 'ready'] as const) emitter.emit('status', s)
  emitter.emit('poll:new', 'P1', samplePoll())
  emitter.emit('poll:update', 'P1', samplePoll())
  emitter.emit('poll:update', 'P1', samplePoll())
  let text = await m.text()
  assert.is(sample(text, 'pollwire_reconnects_total{account="default"}'), 2)
  assert.is(sample(text, 'pollwire_connection_state{account="default",state="ready"}'), 1)
  assert.is(sample(text, 'pollwire_connection_state{account="default",state="connecting"}'), 0)
  assert.is(sample(text, 'pollwire_polls_created_total{account="default"}'), 1)
  assert.is(sample(text, 'pollwire_poll_updates_total{account="default"}'), 2)
  assert.is(sample(text, 'pollwire_connection_state{account="shop",state="qr_pending"}'), 1)
  assert.is(sample(text, 'pollwire_connection_state{account="shop",state="ready"}'), 0)
  assert.is(sample(text, 'pollwire_reconnects_total{account="shop"}'), 0)
  assert.is(sample(text, 'pollwire_polls_created_total{account="shop"}'), 0)
  off()
  emitter.emit('status', 'connecting')
  text = await m.text()
  assert.is(sample(text, 'pollwire_reconnects_total{account="default"}'), 2, 'nothing counted after the remover ran')
  m.account('shop').voteDecrypted()
  await m.forget('shop')
  assert.not.match(await m.text(), /account="shop"/, 'a removed account leaves no series')
})

metrics('HTTP requests by route pattern, method and status', async () => {
  const m = createMetrics({ stats: empty, processMetrics: false })
  m.observeHttp('/polls/:id', 'GET', 200)
  m.observeHttp('/polls/:id', 'GET', 200)
  m.observeHttp('unmatched', 'GET', 404)
  const text = await m.text()
  assert.is(sample(text, 'pollwire_http_requests_total{route="/polls/:id",method="GET",status="200"}'), 2)
  assert.is(sample(text, 'pollwire_http_requests_total{route="unmatched",method="GET",status="404"}'), 1)
})

metrics('each instance has its own registry; process metrics are prefixed', async () => {
  const a = createMetrics({ stats: empty })
  const b = createMetrics({ stats: empty })
  a.account('default').voteDecrypted()
  assert.is(sample(await b.text(), 'pollwire_votes_decrypted_total{account="default"}'), undefined)
  assert.match(await a.text(), /^pollwire_process_cpu_seconds_total /m)
  assert.match(a.contentType, /^text\/plain/)
})

metrics.run()
