import { DisconnectReason } from '@whiskeysockets/baileys'
import type { WAMessageKey } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Chat, SendPollInput, Session } from '../runtime/context.ts'
import type { AuthStore } from './auth-store.ts'
import { createBackoff, type Backoff } from './backoff.ts'
import type { ChatStore } from './chat-store.ts'
import type { ConnectionStatus, Emitter, WaUser } from './events.ts'
import { bindIntake, journalPlaintext } from './intake.ts'
import { subscribe } from './subscribe.ts'
import type { VoteSink } from './vote-sink.ts'
import { pollMessageContent } from './wa-intake.ts'
import type { SocketFactory, WaSocket } from './wa-socket.ts'

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface SessionDeps {
  auth: AuthStore
  chats: ChatStore
  votes: VoteSink
  emitter: Emitter
  log: Logger
  createSocket: SocketFactory
  waWebSocketUrl?: string
  backoff?: Backoff
  timers?: Timers
  now?: () => number
}

export interface WaSession extends Session {
  /** opens the first connection */
  start(): void
  /** closes the connection for good (shutdown); no reconnect follows */
  stop(): void
  /** the reason of the last close, for logs and /status */
  lastDisconnect(): number | undefined
}

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

const statusCodeOf = (err: unknown): number | undefined =>
  (err as { output?: { statusCode?: number } } | undefined)?.output?.statusCode

/**
 * The WhatsApp connection as an explicit state machine:
 * connecting → qr_pending → ready → disconnected | logged_out. Each socket gets a generation;
 * events from an older socket are ignored, so a close we caused never triggers a reconnect.
 */
export function createSession(deps: SessionDeps): WaSession {
  const { auth, chats, votes, emitter, log } = deps
  const timers = deps.timers ?? nodeTimers
  const backoff = deps.backoff ?? createBackoff()
  const now = deps.now ?? Date.now

  let state: ConnectionStatus = 'disconnected'
  let qr: string | null = null
  let user: WaUser | null = null
  let sock: WaSocket | null = null
  let subs: Array<() => void> = []
  let generation = 0
  let retryTimer: unknown = null
  let stopped = false
  let lastCode: number | undefined

  const setState = (next: ConnectionStatus) => {
    if (next === state) return
    log.info({ from: state, to: next }, 'connection state')
    state = next
    emitter.emit('status', next)
  }

  const ownUsers = () => [user?.id, user?.lid].filter((j): j is string => !!j).map((j) => j.split(/[:@]/)[0]!)

  /** Drops the current socket's listeners and forgets it; its later events are ignored. */
  const detach = () => {
    generation++
    for (const off of subs) off()
    subs = []
    const old = sock
    sock = null
    user = null
    qr = null
    if (retryTimer !== null) { timers.clearTimeout(retryTimer); retryTimer = null }
    return old
  }

  const connect = () => {
    detach()
    if (stopped) return
    const gen = generation
    const state0 = auth.load()
    const s = deps.createSocket({
      auth: state0,
      logger: log,
      waWebSocketUrl: deps.waWebSocketUrl,
      getMessage: async (key: WAMessageKey) => {
        const poll = key.id ? votes.pollCreation(key.id) : undefined
        return poll ? pollMessageContent(poll) : undefined
      },
      onPlaintext: (p) => journalPlaintext(p, { votes, now, ownUsers }),
    })
    sock = s
    if (state !== 'logged_out') setState('connecting')
    subs = [
      ...bindIntake(s.ev, { chats, votes, log, now, ownUsers }),
      subscribe(s.ev, 'creds.update', () => {
        // Thrown inside Baileys' event emitter it would break the message being handled.
        try { auth.saveCreds(state0.creds) } catch (err) { log.debug({ err }, 'credentials not saved (the store reports why)') }
      }),
      subscribe(s.ev, 'connection.update', (u) => { if (gen === generation) onUpdate(u) }),
    ]
  }

  const onUpdate = (u: { connection?: string; qr?: string; lastDisconnect?: { error?: unknown } }) => {
    if (u.qr) {
      qr = u.qr
      setState('qr_pending')
      emitter.emit('qr', u.qr)
    }
    if (u.connection === 'open' && sock) {
      backoff.reset()
      qr = null
      const me = sock.user
      user = { id: me?.id ?? '', name: me?.name ?? '', ...(me?.lid ? { lid: me.lid } : {}) }
      setState('ready')
      emitter.emit('user', user)
      syncGroups(sock)
      votes.onLogin().catch((err) => log.error({ err }, 'pending vote retry failed'))
    }
    if (u.connection === 'close') onClose(statusCodeOf(u.lastDisconnect?.error))
  }

  const onClose = (code: number | undefined) => {
    lastCode = code
    detach()
    if (stopped) { setState('disconnected'); return }
    if (code === DisconnectReason.restartRequired) {
      log.info('restart required after pairing; reconnecting')
      connect()
    } else if (code === DisconnectReason.loggedOut) {
      log.warn('logged out by WhatsApp; clearing credentials and starting a fresh pairing')
      auth.clear()
      setState('logged_out')
      connect()
    } else if (code === DisconnectReason.connectionReplaced) {
      log.warn('another client took over this session; not reconnecting')
      setState('disconnected')
    } else {
      const delay = backoff.duration()
      log.warn({ code, delayMs: delay, attempt: backoff.attempts }, 'connection closed; reconnecting')
      setState('disconnected')
      retryTimer = timers.setTimeout(() => { retryTimer = null; connect() }, delay)
    }
  }

  const syncGroups = (s: WaSocket) => {
    s.groupFetchAllParticipating()
      .then((groups) => chats.upsert(Object.values(groups).map((g) => ({ id: g.id, name: g.subject }))))
      .catch((err) => log.warn({ err }, 'could not fetch groups'))
  }

  return {
    status: () => state,
    user: () => user,
    qr: () => (state === 'qr_pending' ? qr : null),
    listChats: (): Chat[] => chats.list(),
    lastDisconnect: () => lastCode,
    start() { stopped = false; connect() },
    stop() {
      stopped = true
      const old = detach()
      old?.end(undefined)
      setState('disconnected')
    },
    async sendPoll(input: SendPollInput) {
      const s = sock
      if (!s || state !== 'ready') throw new Error('WhatsApp is not connected')
      const { id, secret } = votes.preparePoll(input)
      try {
        await s.sendMessage(input.chatId, {
          poll: { name: input.question, values: input.options, selectableCount: input.selectableCount, messageSecret: secret },
        }, { messageId: id })
      } catch (err) {
        votes.markFailed(id, err instanceof Error ? err.message : String(err))
        throw err
      }
      votes.markSent(id)
      return { pollMsgId: id }
    },
    async requestPairingCode(phoneNumber: string) {
      if (!sock || state !== 'qr_pending') throw new Error('not waiting for a pairing')
      return sock.requestPairingCode(phoneNumber)
    },
    async logout() {
      const old = detach()
      if (old) {
        // Unlink on WhatsApp's side when we can; a dead link still gets its local session cleared.
        try { await old.logout() } catch (err) { log.warn({ err }, 'logout request failed; clearing locally') }
        old.end(undefined)
      }
      auth.clear()
      chats.clear()
      setState('logged_out')
      if (!stopped) connect()
    },
  }
}
