/** A chat the account can send a poll to, as GET /get-chats lists it. */
export interface Chat { id: string; name: string; isGroup: boolean }

export interface SendPollInput {
  chatId: string
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice (WhatsApp's own encoding) */
  selectableCount: number
}

/** The connection's states; `connecting` is shown to clients as `disconnected`. */
export type ConnectionStatus = 'connecting' | 'qr_pending' | 'ready' | 'disconnected' | 'logged_out'

/** The four states the contract knows. */
export type PublicStatus = 'ready' | 'qr_pending' | 'disconnected' | 'logged_out'

/** 'connecting' is shown as 'disconnected' (not usable yet). */
export function publicStatus(s: ConnectionStatus): PublicStatus {
  return s === 'connecting' ? 'disconnected' : s
}

export interface WaUser { id: string; name: string; lid?: string }

/**
 * Why an account could not do what was asked, as a code the router maps to a status: the
 * core says what went wrong, the HTTP layer alone knows what that means in HTTP.
 */
export type AccountErrorCode =
  /** not connected to WhatsApp (503) */
  | 'not_connected'
  /** already linked: a pairing makes no sense (409) */
  | 'already_linked'
  /** WhatsApp refused or did not answer (502) */
  | 'rejected'
  /** the store cannot write: nothing was sent (503) */
  | 'store_unavailable'

export class AccountError extends Error {
  readonly code: AccountErrorCode
  /** what WhatsApp or the store said, for the answer's `error` field */
  readonly detail?: string
  constructor(code: AccountErrorCode, message: string, detail?: string) {
    super(message)
    this.code = code
    this.detail = detail
  }
}

/** What handlers may ask of one linked account: nothing more, so a fake is ten lines. */
export interface Session {
  status(): ConnectionStatus
  user(): WaUser | null
  qr(): string | null
  /** stores the poll, sends it, marks it sent; AccountError when it cannot */
  sendPoll(input: SendPollInput): Promise<{ pollMsgId: string }>
  listChats(): Chat[]
  logout(): Promise<void>
  /** AccountError 'already_linked' or 'not_connected' when no pairing is under way */
  requestPairingCode(phoneNumber: string): Promise<string>
}
