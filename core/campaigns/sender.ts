import type { Logger } from 'pino'
import { AccountError } from '../../contract/account.ts'
import type { CampaignChatRecord } from '../../store/ports.ts'
import type { Pacing } from './pacing.ts'

export interface SendOutcome { state: 'sent' | 'failed'; error?: string }

export interface SenderDeps<K> {
  /** the next chat due, of a running campaign */
  next(): { k: K; chat: CampaignChatRecord } | undefined
  /** writes the chat's poll id (once) and returns it; undefined when the chat is no longer due */
  claim(k: K, chat: CampaignChatRecord): Promise<string | undefined>
  settle(k: K, idx: number, outcome: SendOutcome): Promise<void>
  sendPoll(k: K, chat: CampaignChatRecord, pollMsgId: string): Promise<unknown>
  delay(k: K): { min: number; max: number }
  /** whether the account is connected */
  ready(): boolean
  pacing: Pacing
  now(): number
  log: Logger
}

/** After a failed write of the store, the next try waits this long (then doubles, up to 30 s). */
const STORE_RETRY_MS = 1000

/**
 * The campaign sender of one account: one chat at a time, when the account is connected, after
 * the pacing allows. It sleeps until poked (a new campaign, a resume, a status change) or until
 * the pacing's wait is over. A send that fails because the connection went away stays
 * `sending` and goes again, with the same id, once connected; one WhatsApp refuses is `failed`.
 */
export function runSender<K>(deps: SenderDeps<K>) {
  const { log } = deps
  let stopped = true
  let loop: Promise<void> = Promise.resolve()
  let wake: (() => void) | null = null
  let inFlight: { k: K; idx: number } | null = null
  let storeRetry = 0
  let retryAt = 0

  function sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => { wake = null; resolve() }, ms)
      wake = () => { clearTimeout(timer); wake = null; resolve() }
    })
  }

  function storeFailed(err: unknown, what: string): void {
    storeRetry = Math.min(30_000, storeRetry ? storeRetry * 2 : STORE_RETRY_MS)
    retryAt = deps.now() + storeRetry
    log.warn({ err, retryInMs: storeRetry }, `campaign ${what} not written; trying again`)
  }

  async function sendOne(k: K, chat: CampaignChatRecord): Promise<void> {
    let pollMsgId: string | undefined
    try {
      pollMsgId = await deps.claim(k, chat)
    } catch (err) {
      return storeFailed(err, 'send')
    }
    if (!pollMsgId) return
    storeRetry = 0
    inFlight = { k, idx: chat.idx }
    deps.pacing.sent(deps.now(), deps.delay(k))
    let outcome: SendOutcome
    try {
      await deps.sendPoll(k, chat, pollMsgId)
      outcome = { state: 'sent' }
    } catch (err) {
      inFlight = null
      const connectionLost = !deps.ready() || (err instanceof AccountError && (err.code === 'not_connected' || err.code === 'store_unavailable'))
      if (connectionLost) {
        if (err instanceof AccountError && err.code === 'store_unavailable') storeFailed(err, 'poll')
        log.info({ pollMsgId, chatId: chat.chatId }, 'campaign send interrupted; it goes again with the same id once possible')
        return
      }
      outcome = { state: 'failed', error: err instanceof AccountError && err.detail ? `${err.message}: ${err.detail}` : err instanceof Error ? err.message : String(err) }
    }
    inFlight = { k, idx: chat.idx }
    try {
      await deps.settle(k, chat.idx, outcome)
    } catch (err) {
      // Still `sending` in the store: the next turn sends the same id again, which is a no-op once sent.
      storeFailed(err, 'outcome')
    } finally {
      inFlight = null
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      const due = deps.next()
      if (!due || !deps.ready()) { await sleep(); continue }
      const wait = Math.max(deps.pacing.wait(deps.now()), retryAt - deps.now())
      if (wait > 0) { await sleep(wait); continue }
      try {
        await sendOne(due.k, due.chat)
      } catch (err) {
        log.error({ err }, 'campaign sender failed; going on')
        await sleep(STORE_RETRY_MS)
      }
    }
  }

  return {
    start() {
      if (!stopped) return
      stopped = false
      loop = run()
    },
    /** something changed: look again at once */
    poke() { wake?.() },
    /** whether this chat's send is under way right now */
    sending: (k: K, idx: number) => inFlight !== null && inFlight.k === k && inFlight.idx === idx,
    async stop() {
      stopped = true
      wake?.()
      await loop
    },
  }
}
