import pino from 'pino'
import type { SendPollInput } from '../contract/account.ts'
import { createCampaigns } from '../core/campaigns/campaigns.ts'
import { routes } from '../handlers/index.ts'
import { createRouter } from '../runtime/router.ts'
import { createSqliteCampaigns } from '../store/sqlite/campaigns.ts'
import { createStoreHealth } from '../store/sqlite/health.ts'
import type { Row } from './table.ts'
import { makeVote, OPTIONS, openEngine, removeDir, silent, tempDir, type BenchPoll } from './votes.ts'

const CHATS = 1000
const VOTERS = 50_000
/** one in this many voters votes in a second chat too (people in several groups) */
const SECOND_CHAT = 5
const READS = 200

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * 9. Campaigns (issue #17): GET /campaigns/:id for a 1,000-chat campaign with 50,000 voters
 * (a tenth of them in two chats), through the real router and handler, against JSON.stringify
 * of the same answer already built in memory: the combined result is kept as votes arrive,
 * so a read costs the view and its JSON, never a walk over the votes.
 */
export async function benchCampaigns(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const dir = tempDir('campaigns')
  const b = await openEngine(dir)
  try {
    b.db.pragma('synchronous = OFF') // setup only: nothing timed here writes
    const session = {
      status: () => 'ready' as const,
      sendPoll: ({ pollMsgId, ...poll }: SendPollInput) => b.engine.sendPoll({ ...poll, id: pollMsgId }, async () => {}),
    }
    const campaigns = await createCampaigns({
      account: 'default', table: createSqliteCampaigns(b.db, 'default', createStoreHealth({ db: b.db, log: silent })),
      votes: b.engine, session, emitter: b.emitter, chatName: (id) => `Group ${id.slice(7, 18)}`, log: silent, maxPerMinute: 1_000_000,
    })
    campaigns.start()
    const chatIds = Array.from({ length: CHATS }, (_, i) => `1203630${String(i).padStart(11, '0')}@g.us`)
    const { campaignId } = await campaigns.create({ chatIds, question: 'Lunch?', options: OPTIONS, selectableCount: 1, delayMs: { min: 0, max: 0 } })
    while (campaigns.get(campaignId)!.status !== 'done') await new Promise((r) => setTimeout(r, 20))
    const polls: BenchPoll[] = campaigns.get(campaignId)!.chats.map((c) => ({
      id: c.pollMsgId!, chatId: c.chatId, secret: b.engine.pollCreation(c.pollMsgId!)!.secret, selectableCount: 1,
    }))
    const t0 = performance.now()
    let votes = 0
    const pending: Promise<void>[] = []
    for (let v = 0; v < VOTERS; v++) {
      const sel = [v % OPTIONS.length]
      pending.push(b.engine.ingestVote(makeVote(polls[v % CHATS]!, v, sel, 'first').raw))
      if (v % SECOND_CHAT === 0) pending.push(b.engine.ingestVote(makeVote(polls[(v * 7 + 1) % CHATS]!, v, [(v + 1) % OPTIONS.length], 'first').raw))
      if (pending.length >= 2000) { await Promise.all(pending.splice(0)); votes += 2000 }
    }
    votes += pending.length
    await Promise.all(pending)
    const k = campaigns.get(campaignId)!
    log(`  ${CHATS.toLocaleString('en')} chats sent, ${votes.toLocaleString('en')} votes ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${k.voters.toLocaleString('en')} people counted`)
    if (k.voters !== VOTERS) throw new Error(`expected ${VOTERS} people counted, got ${k.voters}`)

    const dispatch = createRouter(routes, { session: {} as never, polls: b.engine, campaigns, store: { ok: () => true }, log: pino({ level: 'silent' }) })
    const url = `http://127.0.0.1/campaigns/${campaignId}`
    const get = async () => {
      const t = performance.now()
      const res = await dispatch(new Request(url))
      // The bytes, as the HTTP server writes them (no decoding back into a string).
      const body = await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${new TextDecoder().decode(body)}`)
      return { ms: performance.now() - t, bytes: body.byteLength }
    }
    const built = { success: true, campaign: campaigns.get(campaignId) }
    const stringify = () => { const t = performance.now(); JSON.stringify(built); return performance.now() - t }
    for (let i = 0; i < 20; i++) { await get(); stringify() }
    const reads: number[] = [], plain: number[] = []
    let bytes = 0
    for (let i = 0; i < READS; i++) {
      const r = await get()
      reads.push(r.ms)
      bytes = r.bytes
      plain.push(stringify())
    }
    // Right after a vote changed the campaign: the view is built again for this read.
    const fresh: number[] = []
    for (let i = 0; i < READS / 4; i++) {
      const v = VOTERS + i
      await b.engine.ingestVote(makeVote(polls[i % CHATS]!, v, [i % OPTIONS.length], 'first').raw)
      fresh.push((await get()).ms)
    }
    const value = median(reads), baseline = median(plain), rebuilt = median(fresh)
    log(`  GET /campaigns/:id median ${value.toFixed(2)} ms (${(bytes / 1024).toFixed(0)} KiB), right after a vote ${rebuilt.toFixed(2)} ms; JSON.stringify of the same answer ${baseline.toFixed(2)} ms`)
    await campaigns.close()
    return {
      rows: [{
        section: '9. campaigns', measure: `GET /campaigns/:id, ${CHATS.toLocaleString('en')} chats, ${VOTERS.toLocaleString('en')} voters (median of ${READS})`,
        value, unit: 'ms', baseline: 'JSON.stringify of the same answer in memory', baselineValue: baseline, ratio: value / baseline,
        target: '≤ 3× the JSON.stringify alone', pass: value <= 3 * baseline,
      }, {
        section: '9. campaigns', measure: `the same GET right after a vote changed the campaign (view built again; median of ${READS / 4})`,
        value: rebuilt, unit: 'ms', baseline: 'JSON.stringify of the same answer in memory', baselineValue: baseline, ratio: rebuilt / baseline,
        target: '–', pass: null,
      }],
    }
  } finally {
    await b.engine.close()
    b.db.close()
    removeDir(dir)
  }
}
