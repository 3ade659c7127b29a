import makeWASocket, { DEFAULT_CONNECTION_CONFIG, proto, unpadRandomMax16 } from '@whiskeysockets/baileys'
import type { AnyMessageContent, AuthenticationState, BaileysEventEmitter, GroupMetadata, MiscMessageGenerationOptions, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'

/** The part of a Baileys socket the session uses; unit tests fake exactly this. */
export interface WaSocket {
  ev: Pick<BaileysEventEmitter, 'on' | 'off'>
  user?: { id: string; name?: string; lid?: string } | undefined
  end(error: Error | undefined): void
  logout(msg?: string): Promise<void>
  sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined>
  groupFetchAllParticipating(): Promise<{ [id: string]: GroupMetadata }>
  requestPairingCode(phoneNumber: string): Promise<string>
}

/** Plaintext seen by the Signal layer before Baileys acknowledges the message to WhatsApp. */
export interface SignalPlaintext {
  /** chat: the group for group messages, else the sender's address */
  chatId: string
  /** the sending device's address (LID or PN, with device) */
  author: string
  message: proto.IMessage
}

export interface SocketOptions {
  auth: AuthenticationState
  logger: Logger
  waWebSocketUrl?: string
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>
  /** awaited before Baileys sends the receipt: the place to make a vote durable first */
  onPlaintext?(p: SignalPlaintext): Promise<void>
}

export type SocketFactory = (opts: SocketOptions) => WaSocket

const decodePlain = (buf: Uint8Array): proto.IMessage | null => {
  try {
    const msg = proto.Message.decode(unpadRandomMax16(buf))
    return msg.deviceSentMessage?.message ?? msg
  } catch {
    return null
  }
}

type MakeSignalRepository = NonNullable<Parameters<typeof makeWASocket>[0]['makeSignalRepository']>

/**
 * Baileys' Signal repository, reporting every plaintext to `onPlaintext` before Baileys sees
 * it (and so before the receipt). The decryption and the report share one Signal-key
 * transaction: the ratchet step that spent the message key is committed only once
 * `onPlaintext` resolved. A crash before that leaves the message decryptable when WhatsApp
 * redelivers it; committed first, the redelivered copy would fail to decrypt and the vote
 * would depend on the voter's phone answering a retry receipt.
 */
export function journalingSignalRepository(onPlaintext: (p: SignalPlaintext) => Promise<void>): MakeSignalRepository {
  return (signalAuth, signalLogger, pnToLid) => {
    const repo = DEFAULT_CONNECTION_CONFIG.makeSignalRepository(signalAuth, signalLogger, pnToLid)
    const keys = signalAuth.keys
    // Baileys hands over a store with transactions; a nested one joins it, so ours is the one that commits.
    const inTransaction = <T>(key: string, work: () => Promise<T>): Promise<T> =>
      'transaction' in keys ? keys.transaction(work, key) : work()
    const decryptMessage = repo.decryptMessage.bind(repo)
    const decryptGroupMessage = repo.decryptGroupMessage.bind(repo)
    repo.decryptMessage = (opts) => inTransaction(opts.jid, async () => {
      const buf = await decryptMessage(opts)
      const message = decodePlain(buf)
      if (message) await onPlaintext({ chatId: opts.jid, author: opts.jid, message })
      return buf
    })
    repo.decryptGroupMessage = (opts) => inTransaction(opts.group, async () => {
      const buf = await decryptGroupMessage(opts)
      const message = decodePlain(buf)
      if (message) await onPlaintext({ chatId: opts.group, author: opts.authorJid, message })
      return buf
    })
    return repo
  }
}

/** The real Baileys socket, with a Signal repository that reports plaintexts before the ack. */
export const createBaileysSocket: SocketFactory = ({ auth, logger, waWebSocketUrl, getMessage, onPlaintext }) =>
  makeWASocket({
    auth,
    logger: logger.child({ module: 'baileys' }),
    ...(waWebSocketUrl ? { waWebSocketUrl } : {}),
    getMessage,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    ...(onPlaintext ? { makeSignalRepository: journalingSignalRepository(onPlaintext) } : {}),
  })
