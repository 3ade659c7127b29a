import type { ConnectionStatus } from '../../session/events.ts'

export type PublicStatus = 'ready' | 'qr_pending' | 'disconnected' | 'logged_out'

/** The contract knows four states; 'connecting' is shown as 'disconnected' (not usable yet). */
export function publicStatus(s: ConnectionStatus): PublicStatus {
  return s === 'connecting' ? 'disconnected' : s
}
