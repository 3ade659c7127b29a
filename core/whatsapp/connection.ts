import type { WAMessageKey } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { AccountError, type Chat, type ConnectionStatus, type SendPollInput, type Session, type WaUser } from '../../contract/account.ts'
import type { Emitter } from '../../contract/events.ts'
import type { AuthState } from '../../store/ports.ts'
import type { Identity } from '../identity.ts'
import type { VoteSink } from '../votes/sink.ts'
import { createBackoff, type Backoff } from './backoff.ts'
import { baileys, loadBaileys } from './baileys-lib.ts'
import type { SocketFactory, WaSocket } from './baileys-socket.ts'
import type { ChatList } from './chats.ts'
import { bindIntake, journalPlaintext, pollMessageContent } from './intake.ts'
import { subscribe } from './subscribe.ts'

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ConnectionDeps {
  auth: AuthState
  chats: ChatList
  votes: VoteSink
  identity: Identity
  emitter: Emitter
  log: Logger
  createSocket: SocketFactory
  waWebSocketUrl?: string
  backoff?: Backoff
  timers?: Timers
  now?: () => number
}

export interface Connection extends Session {
  /**
   * Session.logout; with `pairAgain: false` (an account being deleted) no fresh pairing
   * follows: the connection stays closed, as after stop().
   */
  logout(opts?: { pairAgain?: boolean }): Promise<void>
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

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

const statusCodeOf = (err: unknown): number | undefined =>
  (err as { output?: { statusCode?: number } } | undefined)?.output?.statusCode

/**
 * One account's WhatsApp connection as an explicit state machine:
 * connecting → qr_pending → ready → disconnected | logged_out. Each socket gets a generation;
 * events from an older socket are ignored, so a close we caused never triggers a reconnect.
 */
export function createConnection(deps: ConnectionDeps): Connection {
  const { auth, chats, votes, identity, emitter, log } = deps
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

  const connect = async () => {
    detach()
    if (stopped) return
    const gen = generation
    // Baileys is imported on first use (baileys-lib.ts): the socket's events reach intake and
    // onClose, which call it synchronously, so it is there before the socket is.
    const [saved] = await Promise.all([auth.load(), loadBaileys()])
    // A close, logout or stop while the credentials were read: this attempt is void.
    if (gen !== generation || stopped) return
    const s = deps.createSocket({
      auth: saved,
      logger: log,
      waWebSocketUrl: deps.waWebSocketUrl,
      getMessage: async (key: WAMessageKey) => {
        const poll = key.id ? votes.pollCreation(key.id) : undefined
        return poll ? pollMessageContent(poll) : undefined
      },
      onPlaintext: (p) => journalPlaintext(p, { votes, now, isOwn: identity.isOwn }),
      keyWrites: auth,
      commitKeys: (alongside) => votes.commitKeys(alongside),
    })
    sock = s
    if (state !== 'logged_out') setState('connecting')
    subs = [
      ...bindIntake(s.ev, { chats, votes, log, now, isOwn: identity.isOwn }),
      subscribe(s.ev, 'creds.update', () => {
        // The store reports a failed write; thrown inside Baileys' emitter it would break the message being handled.
        auth.saveCreds(saved.creds).catch((err) => log.debug({ err }, 'credentials not saved'))
      }),
      subscribe(s.ev, 'connection.update', (u) => { if (gen === generation) onUpdate(u) }),
    ]
  }

  const reconnect = () => { connect().catch((err) => log.error({ err }, 'could not open a connection')) }

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
      identity.setOwn(user)
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
    const { DisconnectReason } = baileys()
    if (code === DisconnectReason.restartRequired) {
      log.info('restart required after pairing; reconnecting')
      reconnect()
    } else if (code === DisconnectReason.loggedOut) {
      log.warn('logged out by WhatsApp; clearing credentials and starting a fresh pairing')
      setState('logged_out')
      auth.clear().catch((err) => log.error({ err }, 'credentials not cleared')).then(reconnect)
    } else if (code === DisconnectReason.connectionReplaced) {
      log.warn('another client took over this session; not reconnecting')
      setState('disconnected')
    } else {
      const delay = backoff.duration()
      log.warn({ code, delayMs: delay, attempt: backoff.attempts }, 'connection closed; reconnecting')
      setState('disconnected')
      retryTimer = timers.setTimeout(() => { retryTimer = null; reconnect() }, delay)
    }
  }

  const syncGroups = (s: WaSocket) => {
    s.groupFetchAllParticipating()
      .then((groups) => chats.see(Object.values(groups).map((g) => ({ id: g.id, name: g.subject }))))
      .catch((err) => log.warn({ err }, 'could not fetch groups'))
  }

  return {
    status: () => state,
    user: () => user,
    qr: () => (state === 'qr_pending' ? qr : null),
    listChats: (): Chat[] => chats.list(),
    lastDisconnect: () => lastCode,
    start() { stopped = false; reconnect() },
    stop() {
      stopped = true
      const old = detach()
      old?.end(undefined)
      setState('disconnected')
    },
    async sendPoll(input: SendPollInput) {
      const s = sock
      if (!s || state !== 'ready') throw new AccountError('not_connected', 'WhatsApp is not connected; link the account and try again')
      const { pollMsgId, ...poll } = input
      return votes.sendPoll({ ...poll, id: pollMsgId }, async (id, secret) => {
        await s.sendMessage(input.chatId, {
          poll: { name: input.question, values: input.options, selectableCount: input.selectableCount, messageSecret: secret },
        }, { messageId: id })
      })
    },
    async requestPairingCode(phoneNumber: string) {
      if (state === 'ready') throw new AccountError('already_linked', 'already linked; log out first')
      if (!sock || state !== 'qr_pending') throw new AccountError('not_connected', 'not connected to WhatsApp yet; try again in a moment')
      try {
        return await sock.requestPairingCode(phoneNumber)
      } catch (err) {
        throw new AccountError('rejected', 'WhatsApp did not issue a pairing code', messageOf(err))
      }
    },
    async logout({ pairAgain = true } = {}) {
      if (!pairAgain) stopped = true
      const old = detach()
      if (old) {
        // Unlink on WhatsApp's side when we can; a dead link still gets its local session cleared.
        try { await old.logout() } catch (err) { log.warn({ err }, 'logout request failed; clearing locally') }
        old.end(undefined)
      }
      identity.setOwn(null)
      await auth.clear()
      await chats.clear()
      setState('logged_out')
      if (!stopped) reconnect()
    },
  }
}
