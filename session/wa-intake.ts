import { normalizeMessageContent, proto } from '@whiskeysockets/baileys'
import type { Chat as WaChat, Contact, WAMessage } from '@whiskeysockets/baileys'
import type { ChatUpsert } from './chat-store.ts'
import type { RawVote } from './poll-types.ts'

/** A poll this account created, as learned from its creation message (any of our devices). */
export interface PollCreation {
  id: string
  chatId: string
  question: string
  options: string[]
  selectableCount: number
  secret: Uint8Array
  timestamp: number
}

const toNumber = (v: unknown): number => (v == null ? 0 : Number(v))

/** The vote inside a message, as the journal keeps it, or null when the message is not a vote. */
export function voteFromMessage(msg: WAMessage, source: RawVote['source'], receivedAt: number): RawVote | null {
  const update = normalizeMessageContent(msg.message)?.pollUpdateMessage
  const pollId = update?.pollCreationMessageKey?.id
  const vote = update?.vote
  if (!update || !pollId || !vote?.encPayload || !vote.encIv || !msg.key.remoteJid) return null
  return {
    msgId: msg.key.id ?? undefined,
    pollId,
    chatId: msg.key.remoteJid,
    remoteJidAlt: msg.key.remoteJidAlt ?? undefined,
    participant: msg.key.participant ?? undefined,
    participantAlt: msg.key.participantAlt ?? undefined,
    fromMe: !!msg.key.fromMe,
    senderTimestampMs: toNumber(update.senderTimestampMs) || toNumber(msg.messageTimestamp) * 1000,
    encPayload: vote.encPayload,
    encIv: vote.encIv,
    source,
    receivedAt,
  }
}

/** A poll sent by this account from any device, with the secret its votes are encrypted with. */
export function pollFromMessage(msg: WAMessage): PollCreation | null {
  if (!msg.key.fromMe || !msg.key.id || !msg.key.remoteJid) return null
  const content = normalizeMessageContent(msg.message)
  const poll = content?.pollCreationMessage ?? content?.pollCreationMessageV2 ?? content?.pollCreationMessageV3
  const secret = content?.messageContextInfo?.messageSecret ?? msg.message?.messageContextInfo?.messageSecret
  if (!poll?.name || !poll.options?.length || !secret?.length) return null
  return {
    id: msg.key.id,
    chatId: msg.key.remoteJid,
    question: poll.name,
    options: poll.options.map((o) => o.optionName ?? ''),
    selectableCount: poll.selectableOptionsCount ?? 0,
    secret,
    timestamp: toNumber(msg.messageTimestamp) * 1000,
  }
}

/** The poll message again, for Baileys' retry path (a recipient that could not decrypt asks for it). */
export function pollMessageContent(p: Omit<PollCreation, 'id' | 'chatId' | 'timestamp'>): proto.IMessage {
  const poll = { name: p.question, options: p.options.map((optionName) => ({ optionName })), selectableOptionsCount: p.selectableCount }
  return {
    messageContextInfo: { messageSecret: p.secret },
    ...(p.selectableCount === 1 ? { pollCreationMessageV3: poll } : { pollCreationMessage: poll }),
  }
}

/** A chat named by whoever wrote in it, so contacts appear even without a history sync. */
export function chatFromMessage(msg: WAMessage): ChatUpsert | null {
  const jid = msg.key.remoteJid
  if (!jid) return null
  if (jid.endsWith('@g.us') || msg.key.fromMe) return { id: jid }
  const pn = jid.endsWith('@lid') && msg.key.remoteJidAlt ? msg.key.remoteJidAlt : jid
  return { id: pn, name: msg.pushName ?? undefined }
}

export const chatFromWaChat = (c: Partial<WaChat>): ChatUpsert | null => (c.id ? { id: c.id, name: c.name ?? undefined } : null)

export function chatFromContact(c: Partial<Contact>): ChatUpsert | null {
  const id = c.phoneNumber && c.id?.endsWith('@lid') ? c.phoneNumber : c.id
  if (!id) return null
  return { id, name: c.name ?? c.notify ?? c.verifiedName ?? undefined }
}
