import type { ConnectionStatus, WaUser } from './account.ts'
import type { CampaignUpdate } from './campaigns.ts'
import type { PollView } from './polls.ts'

/** Every event one account emits; runtime/ forwards them to Socket.IO (and, later, webhooks). */
export interface AccountEvents {
  status: (status: ConnectionStatus) => void
  qr: (qr: string) => void
  user: (user: WaUser) => void
  'poll:new': (pollId: string, poll: PollView) => void
  'poll:update': (pollId: string, poll: PollView) => void
  'polls:reset': () => void
  'campaign:update': (update: CampaignUpdate) => void
}

/** A typed emitter small enough to read at a glance; `on` returns its own remover. */
export interface Emitter {
  on<K extends keyof AccountEvents>(event: K, fn: AccountEvents[K]): () => void
  emit<K extends keyof AccountEvents>(event: K, ...args: Parameters<AccountEvents[K]>): void
}

export function createEmitter(): Emitter {
  // Stored untyped: the public signatures above are what keep callers honest.
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
  return {
    on(event, fn) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      const f = fn as (...args: unknown[]) => void
      set.add(f)
      return () => { set.delete(f) }
    },
    emit(event, ...args) {
      for (const fn of listeners.get(event) ?? []) fn(...args)
    },
  }
}
