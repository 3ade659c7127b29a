import type { Namespace } from 'socket.io'
import { publicStatus, type Session } from '../contract/account.ts'
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
  const { session, polls, emitter } = account
  const onConnection = (socket: { emit(event: string, ...args: unknown[]): unknown }) => {
    const state = publicStatus(session.status())
    socket.emit('client_status', state)
    const user = session.user()
    if (state === 'ready' && user) socket.emit('whatsapp_user', user)
    const qr = session.qr()
    if (state === 'qr_pending' && qr) socket.emit('qr_code', qr)
    socket.emit('initial_poll_data', polls.all())
  }
  nsp.on('connection', onConnection)

  // Under a vote flood every group commit changes the touched polls; sending each change to
  // every client (each with the poll's whole voter list) outran the clients, and the server
  // buffered what they could not take until memory grew by hundreds of MB (test/load, issue #7).
  const interval = opts.updateIntervalMs ?? 250
  const windows = new Map<string, { timer: ReturnType<typeof setTimeout>; pending?: PollView }>()
  const sendUpdate = (id: string, p: PollView) => nsp.emit('poll_update_to_gui', pollUpdatePayload(id, p))
  const openWindow = (id: string) => {
    const timer = setTimeout(() => {
      const w = windows.get(id)
      windows.delete(id)
      if (w?.pending) { sendUpdate(id, w.pending); openWindow(id) }
    }, interval)
    windows.set(id, { timer })
  }
  // The whole list supersedes whatever a window still holds.
  const dropWindows = () => {
    for (const w of windows.values()) clearTimeout(w.timer)
    windows.clear()
  }
  const onUpdate = (id: string, p: PollView) => {
    if (interval <= 0) return sendUpdate(id, p)
    const w = windows.get(id)
    if (w) { w.pending = p; return }
    sendUpdate(id, p)
    openWindow(id)
  }

  const offs = [
    emitter.on('status', (s) => nsp.emit('client_status', publicStatus(s))),
    emitter.on('qr', (qr) => nsp.emit('qr_code', qr)),
    emitter.on('user', (u) => nsp.emit('whatsapp_user', u)),
    emitter.on('poll:new', (pollMsgId, pollData) => nsp.emit('new_poll_sent', { pollMsgId, pollData })),
    emitter.on('poll:update', onUpdate),
    emitter.on('polls:reset', () => { dropWindows(); nsp.emit('initial_poll_data', polls.all()) }),
  ]
  return () => {
    nsp.off('connection', onConnection)
    for (const off of offs) off()
    dropWindows()
  }
}
