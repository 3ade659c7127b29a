import type { Logger } from 'pino'
import { createEmitter, type Emitter } from '../contract/events.ts'
import { publicStatus } from '../contract/account.ts'
import type { WebhookEventType } from '../contract/webhooks.ts'
import type { Outbox } from '../store/outbox-port.ts'
import type { AccountStore } from '../store/ports.ts'
import { createCampaigns, type CampaignDeps, type CampaignService } from './campaigns/campaigns.ts'
import { sessionStatus } from './webhooks/events.ts'
import { createIdentity } from './identity.ts'
import { createVoteEngine, type VoteEngine, type VoteEngineDeps } from './votes/engine.ts'
import type { VoteMetrics } from './votes/metrics.ts'
import type { SocketFactory } from './whatsapp/baileys-socket.ts'
import { createChatList } from './whatsapp/chats.ts'
import { createConnection, type Connection } from './whatsapp/connection.ts'

export interface AccountDeps {
  /** `default`, or an id from POST /accounts */
  id: string
  store: AccountStore
  log: Logger
  createSocket: SocketFactory
  waWebSocketUrl?: string
  metrics?: VoteMetrics
  /** webhook endpoints: whether anybody wants an event (none are built otherwise) */
  webhooks?: Pick<Outbox, 'wanted'>
  /** engine tuning (batching, pending caps), for tests and benchmarks */
  engine?: Partial<Pick<VoteEngineDeps, 'maxBatch' | 'batchDelayMs' | 'pendingLimits' | 'pendingMaxAgeMs' | 'retryChunk' | 'now'>>
  /** campaign pacing: sends per minute at most (CAMPAIGN_MAX_PER_MIN), and clock and dice for tests */
  campaigns?: Partial<Pick<CampaignDeps, 'maxPerMinute' | 'now' | 'random'>>
}

/** One linked WhatsApp account: its connection, identity, vote engine and slice of the store. */
export interface Account {
  id: string
  /** what handlers ask of it (the contract's Session), plus start and stop */
  session: Connection
  /** its polls and votes (the contract's PollReader, and the engine's own calls) */
  polls: VoteEngine
  /** its campaigns: one poll to many chats, sent in the background */
  campaigns: CampaignService
  /** everything it announces: connection state, QR, user, polls, campaigns */
  emitter: Emitter
  /** opens the connection to WhatsApp */
  start(): void
  /** closes the connection, then commits what is queued; the store stays open */
  close(): Promise<void>
}

/**
 * Builds one account from its slice of the store: a second account is a second call. Reads
 * what the store holds (chats, LID↔PN pairs, the vote journal) before it returns, so the
 * account answers reads at once; `start` then connects.
 */
export async function createAccount(deps: AccountDeps): Promise<Account> {
  const { store } = deps
  const log = deps.log.child({ account: deps.id })
  const emitter = createEmitter()
  const identity = createIdentity({ lidMapping: store.auth, log })
  for (const { lid, pn } of await store.auth.lidPairs()) identity.learn(pn, lid)
  const chats = createChatList({ table: store.chats, chatId: identity.chatId, log: log.child({ module: 'chats' }) })
  await chats.load()
  const outbox = deps.webhooks
  const webhooks = outbox && { account: deps.id, wanted: (type: WebhookEventType) => outbox.wanted(type, deps.id) }
  const polls = await createVoteEngine({
    journal: store.votes, identity, emitter, metrics: deps.metrics, log: log.child({ module: 'votes' }), webhooks, ...deps.engine,
  })
  // A pair Baileys just stored can decrypt exactly that person's pending votes.
  const unwatch = store.auth.onLidMapping((pairs) => {
    for (const { lid, pn } of pairs) identity.learn(pn, lid)
    polls.retryPending({ jids: pairs.flatMap((p) => [p.lid, p.pn]) }).catch((err) => log.error({ err }, 'pending vote retry failed'))
  })
  const session = createConnection({
    auth: store.auth, chats, votes: polls, identity, emitter, createSocket: deps.createSocket,
    log: log.child({ module: 'session' }), waWebSocketUrl: deps.waWebSocketUrl,
  })
  const campaigns = await createCampaigns({
    account: deps.id, table: store.campaigns, votes: polls, session, emitter, chatName: chats.name,
    log: log.child({ module: 'campaigns' }), webhooks, ...deps.campaigns,
  })
  // session.status: written on its own (nothing else changes with it), once per public state.
  let reported: string | null = null
  const offStatus = emitter.on('status', (s) => {
    const status = publicStatus(s)
    if (status === reported || !webhooks?.wanted('session.status')) return
    reported = status
    const event = sessionStatus({ account: deps.id, status, user: status === 'ready' ? session.user() : null })
    store.votes.commit({ events: [event] }).catch((err) => log.warn({ err }, 'session.status event not written'))
  })
  return {
    id: deps.id,
    session,
    polls,
    campaigns,
    emitter,
    start() {
      session.start()
      campaigns.start()
    },
    async close() {
      unwatch()
      offStatus()
      // The sender stops taking chats; a send under way ends with the connection and is sent again after a restart.
      const sending = campaigns.close()
      session.stop()
      await sending
      await polls.close()
    },
  }
}
