import type { Namespace } from 'socket.io'
import { publicStatus, type Session } from '../contract/account.ts'
import type { Emitter } from '../contract/events.ts'
import type { PollReader, PollView } from '../contract/polls.ts'
import { randomUUID } from 'node:crypto'
import type { ClientOutlet } from './client-fold.ts'
import { inOrder } from './relay-order.ts'

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
 * (if pending) and `initial_poll_data`; afterwards every change. `announce()` tells every client
 * the whole state again; `stop()` removes it.
 *
 * `poll_update_to_gui` and `campaign_update` are folded by backpressure through `out`, the
 * namespace's client outlet (client-fold.ts): a client that takes what it is sent gets every
 * change at once; one with a send still pending gets the newest state of each poll and campaign
 * when it drains. Every update is complete, so none is lost. The outlet is the caller's and
 * outlives this broadcast: what a slow client holds survives the account being rebound.
 *
 * `relay` (several processes, the PostgreSQL adapter): the events this process's account emits
 * also go, numbered, to the same namespace on every other process, which passes them to its own
 * clients the same way (receiveRelayed); so each process folds for the clients it holds.
 */
export function broadcast(nsp: Namespace, out: ClientOutlet, account: Broadcast, opts: { relay?: boolean } = {}): { stop(): void; announce(): void } {
  const { polls, emitter } = account
  const onConnection = (socket: { emit(event: string, ...args: unknown[]): unknown }) => announce(socket, account)
  nsp.on('connection', onConnection)

  const send = (m: Relayed) => {
    deliver(out, m)
    if (opts.relay) nsp.serverSideEmit(RELAY, { ...m, from: ORIGIN, seq: nextSeq(nsp.name) })
  }
  const everyone = { emit: (event: string, ...args: unknown[]) => send({ event, args }) }

  const offs = [
    emitter.on('status', (s) => send({ event: 'client_status', args: [publicStatus(s)] })),
    emitter.on('qr', (qr) => send({ event: 'qr_code', args: [qr] })),
    emitter.on('user', (u) => send({ event: 'whatsapp_user', args: [u] })),
    emitter.on('poll:new', (pollMsgId, pollData) => send({ event: 'new_poll_sent', args: [{ pollMsgId, pollData }] })),
    emitter.on('poll:update', (id, p) => send({ event: 'poll_update_to_gui', fold: id, args: [pollUpdatePayload(id, p)] })),
    emitter.on('polls:reset', () => send({ event: 'initial_poll_data', args: [polls.all()] })),
    emitter.on('campaign:update', (u) => send({ event: 'campaign_update', fold: u.campaignId, args: [u] })),
  ]
  return {
    announce: () => announce(everyone, account),
    stop() {
      nsp.off('connection', onConnection)
      for (const off of offs) off()
    },
  }
}

/** The server-side event that carries an account's events to the other processes' clients. */
const RELAY = 'pollwire:event'

/** One event for the clients; `fold`: its key when only the newest per key matters (client-fold.ts). */
interface Relayed { event: string; args: unknown[]; fold?: string }

/** This process, as the sender of relayed events; each namespace numbers what it sends from 0. */
const ORIGIN = randomUUID()
const seqs = new Map<string, number>()
const nextSeq = (nsp: string) => { const n = seqs.get(nsp) ?? 0; seqs.set(nsp, n + 1); return n }

/** What reaches this process's clients, from its own account or relayed from another process. */
function deliver(out: ClientOutlet, m: Relayed): void {
  if (m.fold) return out.fold(m.event, m.fold, m.args[0])
  // The whole list supersedes whatever a client still holds.
  if (m.event === 'initial_poll_data') out.drop('poll_update_to_gui')
  out.emit(m.event, ...m.args)
}

/**
 * Several processes: the events other processes relay for this namespace, passed to this
 * process's clients through `out` in the order each sender sent them (relay-order.ts). For the
 * namespace's whole life, whichever account object is bound to it. Returns the remover.
 */
export function receiveRelayed(nsp: Namespace, out: ClientOutlet): () => void {
  const order = inOrder<Relayed>({ deliver: (m) => deliver(out, m) })
  const onRelay = (m: Relayed & { from?: unknown; seq?: unknown }) => {
    if (typeof m?.event !== 'string' || !Array.isArray(m.args)) return
    const relayed: Relayed = { event: m.event, args: m.args, ...(typeof m.fold === 'string' ? { fold: m.fold } : {}) }
    if (typeof m.from === 'string' && typeof m.seq === 'number') order.accept(m.from, m.seq, relayed)
    else deliver(out, relayed)
  }
  nsp.on(RELAY, onRelay)
  return () => { nsp.off(RELAY, onRelay); order.close() }
}
