import type { Namespace } from 'socket.io'
import { publicStatus, type Session } from '../contract/account.ts'
import type { CampaignUpdate } from '../contract/campaigns.ts'
import type { Emitter } from '../contract/events.ts'
import type { PollReader, PollView } from '../contract/polls.ts'

/** What one namespace broadcasts: one account's session, polls and events. */
export interface Broadcast {
  session: Pick<Session, 'status' | 'user' | 'qr'>
  polls: Pick<PollReader, 'all'>
  emitter: Emitter
}

export const pollUpdatePayload = (pollMsgId: string, p: PollView) => ({
  pollMsgId,
  results: p.results,
  question: p.question,
  options: p.options,
  voters: p.voters,
  selectableCount: p.selectableCount,
})

/** The whole state of an account as a client first gets it: status, user or QR, every poll. */
export function announce(to: { emit(event: string, ...args: unknown[]): unknown }, account: Pick<Broadcast, 'session' | 'polls'>): void {
  const { session, polls } = account
  const state = publicStatus(session.status())
  to.emit('client_status', state)
  const user = session.user()
  if (state === 'ready' && user) to.emit('whatsapp_user', user)
  const qr = session.qr()
  if (state === 'qr_pending' && qr) to.emit('qr_code', qr)
  to.emit('initial_poll_data', polls.all())
}

/**
 * Sends one account's events to the clients of one Socket.IO namespace under the GUI's event
 * names (API.md): on connection `client_status`, then `whatsapp_user` (if ready), `qr_code`
 * (if pending) and `initial_poll_data`; afterwards every change. Returns the remover.
 *
 * `updateIntervalMs`: at most one poll_update_to_gui per poll per this many ms (default 250;
 * 0 = every change). The first change goes out at once, later ones within the window are folded
 * into one that carries the newest state when it ends: every update is complete, so none is lost.
 */
export function broadcast(nsp: Namespace, account: Broadcast, opts: { updateIntervalMs?: number } = {}): () => void {
  const { polls, emitter } = account
  const onConnection = (socket: { emit(event: string, ...args: unknown[]): unknown }) => announce(socket, account)
  nsp.on('connection', onConnection)

  // Under a vote flood every group commit changes the touched polls; sending each change to
  // every client (each with the poll's whole voter list) outran the clients, and the server
  // buffered what they could not take until memory grew by hundreds of MB (test/load, issue #7).
  const interval = opts.updateIntervalMs ?? 250
  const pollUpdates = fold<PollView>(interval, (id, p) => nsp.emit('poll_update_to_gui', pollUpdatePayload(id, p)))
  // A campaign's combined result changes with every vote of any of its chats: folded the same way.
  const campaignUpdates = fold<CampaignUpdate>(interval, (_id, u) => nsp.emit('campaign_update', u))

  const offs = [
    emitter.on('status', (s) => nsp.emit('client_status', publicStatus(s))),
    emitter.on('qr', (qr) => nsp.emit('qr_code', qr)),
    emitter.on('user', (u) => nsp.emit('whatsapp_user', u)),
    emitter.on('poll:new', (pollMsgId, pollData) => nsp.emit('new_poll_sent', { pollMsgId, pollData })),
    emitter.on('poll:update', pollUpdates.push),
    // The whole list supersedes whatever a window still holds.
    emitter.on('polls:reset', () => { pollUpdates.drop(); nsp.emit('initial_poll_data', polls.all()) }),
    emitter.on('campaign:update', (u) => campaignUpdates.push(u.campaignId, u)),
  ]
  return () => {
    nsp.off('connection', onConnection)
    for (const off of offs) off()
    pollUpdates.drop()
    campaignUpdates.drop()
  }
}

/**
 * At most one send per id per `interval` ms (0 = every change): the first change goes out at
 * once, later ones within the window fold into one carrying the newest state when it ends.
 * Every update is complete, so none is lost.
 */
function fold<T>(interval: number, send: (id: string, value: T) => void) {
  const windows = new Map<string, { timer: ReturnType<typeof setTimeout>; pending?: T }>()
  const open = (id: string) => {
    const timer = setTimeout(() => {
      const w = windows.get(id)
      windows.delete(id)
      if (w?.pending !== undefined) { send(id, w.pending); open(id) }
    }, interval)
    windows.set(id, { timer })
  }
  return {
    push(id: string, value: T) {
      if (interval <= 0) return send(id, value)
      const w = windows.get(id)
      if (w) { w.pending = value; return }
      send(id, value)
      open(id)
    },
    drop() {
      for (const w of windows.values()) clearTimeout(w.timer)
      windows.clear()
    },
  }
}
