import type { Logger } from 'pino'
import type { PollStore } from '../session/poll-types.ts'
import type { ConnectionStatus, WaUser } from '../session/events.ts'

export interface Chat { id: string; name: string; isGroup: boolean }

export interface SendPollInput {
  chatId: string
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice (WhatsApp's own encoding) */
  selectableCount: number
}

/** What handlers may ask of the WhatsApp session: nothing more, so a fake is ten lines. */
export interface Session {
  status(): ConnectionStatus
  user(): WaUser | null
  qr(): string | null
  sendPoll(input: SendPollInput): Promise<{ pollMsgId: string }>
  listChats(): Chat[]
  logout(): Promise<void>
  requestPairingCode(phoneNumber: string): Promise<string>
}

/** Liveness of the store, for GET /health. */
export interface StoreProbe { ok(): boolean }

/** The Prometheus exposition, for GET /metrics; prom-client itself stays in runtime/. */
export interface MetricsText { text(): Promise<string>; readonly contentType: string }

/** Draws a QR string as an SVG document, for GET /status/qr.svg. */
export type QrRenderer = (text: string) => Promise<string>

export interface Context {
  session: Session
  polls: PollStore
  store: StoreProbe
  log: Logger
  params: Record<string, string>
  /** absent when the runtime collects no metrics */
  metrics?: MetricsText
  /** absent when the runtime draws no QR images */
  qrSvg?: QrRenderer
}

export type Handler = (req: Request, ctx: Context) => Response | Promise<Response>
