import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AccountError, type ConnectionStatus, type SendPollInput } from '../../../contract/account.ts'
import type { CampaignUpdate, NewCampaign } from '../../../contract/campaigns.ts'
import { createCampaigns, type CampaignService } from '../../../core/campaigns/campaigns.ts'
import type { VoteEngine } from '../../../core/votes/engine.ts'
import { openDb } from '../../../store/sqlite/db.ts'
import { createSqliteCampaigns } from '../../../store/sqlite/campaigns.ts'
import { createStoreHealth } from '../../../store/sqlite/health.ts'
import type { CampaignCommit, CampaignTable } from '../../../store/ports.ts'
import { rig, silentLog, tempDir, vote, voter, type Rig } from '../votes/fixtures.ts'

const G1 = '120363000000000001@g.us'
const G2 = '120363000000000002@g.us'
const DM = '17770000099@s.whatsapp.net'
const alice = voter(1)
const bob = voter(2)

/** The WhatsApp side as the campaign sees it: the engine's write-before-send, a recorded delivery. */
function fakeSession(engine: VoteEngine, r: Rig) {
  let status: ConnectionStatus = 'ready'
  const delivered: Array<{ chatId: string; id: string }> = []
  const refuse = new Set<string>()
  let hold: Promise<void> | null = null
  let beforeDeliver: ((chatId: string) => void) | null = null
  return {
    delivered,
    refuse,
    status: () => status,
    set(s: ConnectionStatus) { status = s; r.emitter.emit('status', s) },
    holdSends(p: Promise<void> | null) { hold = p },
    onDeliver(fn: (chatId: string) => void) { beforeDeliver = fn },
    async sendPoll(input: SendPollInput) {
      if (status !== 'ready') throw new AccountError('not_connected', 'WhatsApp is not connected')
      const { pollMsgId, ...poll } = input
      return engine.sendPoll({ ...poll, id: pollMsgId }, async (id) => {
        if (hold) await hold
        beforeDeliver?.(input.chatId)
        if (refuse.has(input.chatId)) throw new Error('not-authorized')
        delivered.push({ chatId: input.chatId, id })
      })
    },
  }
}

interface Ctx { r: Rig; session: ReturnType<typeof fakeSession>; campaigns: CampaignService; updates: CampaignUpdate[]; dir: ReturnType<typeof tempDir> }

async function setup(opts: { dir?: ReturnType<typeof tempDir>; maxPerMinute?: number; outbox?: boolean; dies?: (c: CampaignCommit) => boolean } = {}): Promise<Ctx> {
  const dir = opts.dir ?? tempDir()
  const db = openDb(dir.dir)
  const r = await rig({ db, outbox: opts.outbox })
  const session = fakeSession(r.engine, r)
  const updates: CampaignUpdate[] = []
  r.emitter.on('campaign:update', (u) => updates.push(u))
  const real = createSqliteCampaigns(db, 'default', createStoreHealth({ db, log: silentLog() }), r.outbox)
  let dead = false
  const table: CampaignTable = {
    all: () => real.all(),
    async commit(c) {
      if (dead || (opts.dies && c.chats && opts.dies(c))) { dead = true; throw new Error('the process died') }
      return real.commit(c)
    },
  }
  const campaigns = await createCampaigns({
    account: 'default', table,
    votes: r.engine, session, emitter: r.emitter, chatName: (id) => `name of ${id}`, log: silentLog(),
    webhooks: r.outbox && { wanted: (t) => r.outbox!.wanted(t, 'default') }, maxPerMinute: opts.maxPerMinute ?? 1000,
  })
  campaigns.start()
  return { r, session, campaigns, updates, dir }
}

const input = (chatIds: string[], delay = { min: 0, max: 0 }): NewCampaign =>
  ({ chatIds, question: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1, delayMs: delay })

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const send = suite<Ctx>('campaigns: sending')
send.after.each(async (ctx) => { await ctx.campaigns.close(); await ctx.r.engine.close(); ctx.dir.remove() })

send('committed before the first send; every chat gets one poll, in order; done; each poll is an ordinary poll', async (ctx) => {
  Object.assign(ctx, await setup())
  const { campaignId, total } = await ctx.campaigns.create(input([G1, G2, DM]))
  assert.is(total, 3)
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  assert.equal(ctx.session.delivered.map((d) => d.chatId), [G1, G2, DM])
  const k = ctx.campaigns.get(campaignId)!
  assert.equal([k.sent, k.failed, k.total], [3, 0, 3])
  assert.equal(k.chats.map((c) => [c.chatId, c.name, c.state, c.pollMsgId]), ctx.session.delivered.map((d) => [d.chatId, `name of ${d.chatId}`, 'sent', d.id]))
  for (const d of ctx.session.delivered) assert.equal(ctx.r.engine.get(d.id)?.question, 'Lunch?')
  assert.equal(k.perChat, { [G1]: { Pizza: 0, Sushi: 0 }, [G2]: { Pizza: 0, Sushi: 0 }, [DM]: { Pizza: 0, Sushi: 0 } })
  assert.equal(ctx.updates.at(-1), { campaignId, status: 'done', sent: 3, failed: 0, total: 3, results: { Pizza: 0, Sushi: 0 }, voters: 0 })
})

send('one person in two groups counts once (their newest); a retraction in one group leaves the other standing', async (ctx) => {
  Object.assign(ctx, await setup())
  const { campaignId } = await ctx.campaigns.create(input([G1, G2, DM]))
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  const [p1, p2, pd] = ctx.session.delivered.map((d) => ({ id: d.id, chatId: d.chatId, secret: ctx.r.engine.pollCreation(d.id)!.secret }))
  await ctx.r.engine.ingestVote(vote(p1!, alice, { choose: ['Pizza'], ts: 1000 }))
  await ctx.r.engine.ingestVote(vote(p2!, alice, { choose: ['Sushi'], ts: 2000 }))
  await ctx.r.engine.ingestVote(vote(p2!, bob, { choose: ['Sushi'], ts: 1500 }))
  await ctx.r.engine.ingestVote(vote(pd!, bob, { choose: ['Pizza'], ts: 1200, address: 'pn' }))
  let k = ctx.campaigns.get(campaignId)!
  assert.equal(k.results, { Pizza: 0, Sushi: 2 }, 'alice: Sushi (newest), bob: Sushi (newest)')
  assert.is(k.voters, 2)
  assert.equal(k.perChat[G1], { Pizza: 1, Sushi: 0 })
  assert.equal(k.perChat[G2], { Pizza: 0, Sushi: 2 })
  assert.equal(k.perChat[DM], { Pizza: 1, Sushi: 0 })
  await ctx.r.engine.ingestVote(vote(p2!, alice, { choose: [], ts: 3000 }))
  k = ctx.campaigns.get(campaignId)!
  assert.equal(k.results, { Pizza: 1, Sushi: 1 }, 'alice falls back to Pizza, what G1 still shows')
  assert.equal(ctx.campaigns.voters(campaignId)!.map((v) => [v.voter, v.selected, v.chatId]), [
    [alice.pn, ['Pizza'], G1], [bob.pn, ['Sushi'], G2],
  ])
  assert.equal(ctx.updates.at(-1)!.results, { Pizza: 1, Sushi: 1 }, 'announced')
})

send('waits while disconnected and goes on once ready; a chat WhatsApp refuses is failed, the rest still go', async (ctx) => {
  Object.assign(ctx, await setup())
  ctx.session.set('disconnected')
  ctx.session.refuse.add(G2)
  const { campaignId } = await ctx.campaigns.create(input([G1, G2, DM]))
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(ctx.session.delivered, [], 'nothing while disconnected')
  assert.is(ctx.campaigns.get(campaignId)!.status, 'running')
  ctx.session.set('ready')
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  const k = ctx.campaigns.get(campaignId)!
  assert.equal(k.chats.map((c) => c.state), ['sent', 'failed', 'sent'])
  assert.match(k.chats[1]!.error ?? '', /not-authorized/)
  assert.equal([k.sent, k.failed], [2, 1])
  assert.not.ok(k.perChat[G2], 'a failed chat has no tally')
})

send('pause stops after the send under way; resume goes on; cancel stops for good; a logout pauses', async (ctx) => {
  Object.assign(ctx, await setup())
  let release!: () => void
  ctx.session.holdSends(new Promise<void>((r) => { release = r }))
  const { campaignId } = await ctx.campaigns.create(input([G1, G2, DM]))
  await until('first send under way', () => ctx.campaigns.get(campaignId)!.chats[0]!.state === 'sending')
  assert.is(await ctx.campaigns.pause(campaignId), 'ok')
  ctx.session.holdSends(null)
  release()
  await until('first sent', () => ctx.campaigns.get(campaignId)!.sent === 1)
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(ctx.campaigns.get(campaignId)!.chats.map((c) => c.state), ['sent', 'queued', 'queued'], 'paused')
  assert.is(await ctx.campaigns.resume(campaignId), 'ok')
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  assert.is(await ctx.campaigns.pause(campaignId), 'finished')
  assert.is(await ctx.campaigns.cancel('nope'), 'unknown')

  ctx.session.set('disconnected')
  const second = (await ctx.campaigns.create(input([G1, G2]))).campaignId
  ctx.session.set('logged_out')
  await until('paused by the logout', () => ctx.campaigns.get(second)!.status === 'paused')
  ctx.session.set('ready')
  assert.is(await ctx.campaigns.cancel(second), 'ok')
  await new Promise((r) => setTimeout(r, 50))
  const k = ctx.campaigns.get(second)!
  assert.equal([k.status, ...k.chats.map((c) => c.state)], ['cancelled', 'cancelled', 'cancelled'])
  assert.is(ctx.session.delivered.length, 3, 'nothing of the cancelled campaign went out')
  assert.is(await ctx.campaigns.resume(second), 'finished')
})

send('a crash after the send, before its outcome was written: the restart finds the poll out and sends nothing twice', async (ctx) => {
  const dir = tempDir()
  // The process "dies" once the first chat's poll id is written: no later write of its campaigns lands.
  const first = await setup({ dir, dies: (c) => c.chats?.[0]?.state !== 'sending' })
  const { campaignId } = await first.campaigns.create(input([G1, G2]))
  await until('first delivered', () => first.session.delivered.length === 1)
  const id = first.session.delivered[0]!.id
  await first.campaigns.close()
  await first.r.engine.close()
  Object.assign(ctx, await setup({ dir }))
  await until('done after the restart', () => ctx.campaigns.get(campaignId)?.status === 'done')
  assert.equal(ctx.session.delivered.map((d) => d.chatId), [G2], 'G1 was not sent again')
  const k = ctx.campaigns.get(campaignId)!
  assert.equal(k.chats.map((c) => [c.state, c.pollMsgId === id]), [['sent', true], ['sent', false]])
  assert.is(Object.keys(ctx.r.engine.all()).length, 2)
})

send('a send cut off by the connection goes again with the same id once connected (WhatsApp delivers it once)', async (ctx) => {
  Object.assign(ctx, await setup())
  let cut = true
  ctx.session.onDeliver((chatId) => {
    if (chatId !== G1 || !cut) return
    cut = false
    ctx.session.set('disconnected')
    throw new Error('Connection Closed')
  })
  const { campaignId } = await ctx.campaigns.create(input([G1, G2]))
  await until('cut off', () => !cut)
  const id = ctx.campaigns.get(campaignId)!.chats[0]!.pollMsgId!
  await new Promise((r) => setTimeout(r, 30))
  assert.is(ctx.campaigns.get(campaignId)!.chats[0]!.state, 'sending', 'not failed: it may have gone out')
  ctx.session.set('ready')
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  assert.equal(ctx.session.delivered.map((d) => [d.chatId, d.id === id]), [[G1, true], [G2, false]])
  assert.equal(ctx.campaigns.get(campaignId)!.chats.map((c) => c.state), ['sent', 'sent'])
})

send('campaign webhook events are written with the change they report', async (ctx) => {
  Object.assign(ctx, await setup({ outbox: true }))
  await ctx.r.outbox!.addEndpoint({ id: 'e1', url: 'http://127.0.0.1:9/hook', events: ['campaign.progress', 'campaign.done'], account: null, source: 'api', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  const { campaignId } = await ctx.campaigns.create(input([G1, G2]))
  await until('done', () => ctx.campaigns.get(campaignId)?.status === 'done')
  // One campaign's events go out in commit order: the second is claimable once the first settled.
  const bodies: any[] = []
  for (let round = 0; round < 3; round++) {
    for (const d of await ctx.r.outbox!.claim('e1', 10, Date.now())) {
      bodies.push(JSON.parse(d.event.body))
      await ctx.r.outbox!.settle(d.id, { status: 'delivered', at: Date.now() })
    }
  }
  assert.equal(bodies.map((b) => [b.type, b.data.status, b.data.sent, b.data.total]), [
    ['campaign.progress', 'running', 1, 2], ['campaign.done', 'done', 2, 2],
  ])
  assert.equal(bodies[1].data, { account: 'default', campaignId, status: 'done', sent: 2, failed: 0, total: 2, results: { Pizza: 0, Sushi: 0 } })
})

send.run()
