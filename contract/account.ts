/** A chat the account can send a poll to, as GET /get-chats lists it. */
export interface Chat { id: string; name: string; isGroup: boolean }

export interface SendPollInput {
  chatId: string
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice (WhatsApp's own encoding) */
  selectableCount: number
  /**
   * The message id, when the caller wrote it down before sending: sending again with the same
   * id re-sends the same message (WhatsApp delivers it once) and never makes a second poll.
   */
  pollMsgId?: string
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

/** One account as GET /accounts lists it. */
export interface AccountSummary {
  id: string
  status: PublicStatus
  /** set only while ready */
  user: WaUser | null
}

/**
 * The server's accounts, for the /accounts handlers (API.md, "Several accounts"). `default`
 * always exists and is never removed.
 */
export interface AccountsAdmin {
  list(): AccountSummary[]
  /** registers the account, builds it and starts its pairing; null when the id is taken */
  add(id: string): Promise<AccountSummary | null>
  /**
   * Logs the account out (unlinking the device when connected), deletes its credentials and
   * chats, and with `purge` its polls and votes too; false when there is no such account.
   */
  remove(id: string, purge: boolean): Promise<boolean>
}
