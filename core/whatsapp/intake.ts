import type { BaileysEventMap, Chat as WaChat, Contact, GroupMetadata, proto, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { RawVote } from '../../store/ports.ts'
import type { PollCreation } from '../votes/types.ts'
import type { VoteSink } from '../votes/sink.ts'
import { baileys } from './baileys-lib.ts'
import type { SignalPlaintext, WaSocket } from './baileys-socket.ts'
import type { ChatSighting } from './chats.ts'
import { subscribe } from './subscribe.ts'

/**
 * Intake: what Baileys tells us about chats, polls and votes, read in one place. A vote (and a
 * poll created on another device) is seen twice — at the Signal layer before the ack, then in
 * messages.upsert — and both sightings are read by the same functions below, so they journal
 * the same vote; the engine joins them.
 *
 * Baileys' message helpers are reached through baileys() (core/whatsapp/baileys-lib.ts): all of
 * this runs on a socket's events, and a connection loads Baileys before it opens its socket.
 */

export interface IntakeDeps {
  chats: { see(sightings: ChatSighting[]): void }
  votes: VoteSink
  log: Logger
  now: () => number
  /** whether a JID is this account's own (identity.isOwn) */
  isOwn: (jid: string) => boolean
}

const present = <T>(x: T | null): x is T => x !== null

/**
 * Subscribes to what Baileys tells us about chats, polls and votes. Returns the removers,
 * so a closed socket leaves no listener behind.
 */
export function bindIntake(ev: WaSocket['ev'], deps: IntakeDeps): Array<() => void> {
  const { chats, votes, log, now } = deps
  // The chat list is rebuilt from later messages and syncs: a failed write (disk full) must not
  // break the message Baileys is handling.
  const keepChats = (list: Array<ChatSighting | null>) => chats.see(list.filter(present))

  const takeMessages = (messages: WAMessage[], source: 'notify' | 'append') => {
    const receivedAt = now()
    for (const msg of messages) {
      const poll = pollFromMessage(msg)
      if (poll) votes.recordPollCreation(poll).catch((err) => log.error({ err, pollMsgId: poll.id }, 'poll creation not recorded'))
      const vote = voteFromMessage(msg, source, receivedAt)
      // A failed commit is reported once by the engine; the Signal-layer sighting is what counts.
      if (vote) votes.ingestVote(vote).catch((err) => log.debug({ err, pollId: vote.pollId }, 'vote not journaled'))
    }
    keepChats(messages.map(chatFromMessage))
  }

  const on = <E extends keyof BaileysEventMap>(event: E, fn: (arg: BaileysEventMap[E]) => void) => subscribe(ev, event, fn)
  // Only votes from this person can decrypt now: their other address is what was missing.
  const retry = ({ lid, pn }: { lid: string; pn: string }) => {
    votes.retryPending({ jids: [lid, pn] }).catch((err) => log.error({ err }, 'pending vote retry failed'))
  }
  const groups = (list: Array<Partial<GroupMetadata>>) => keepChats(list.map((g) => (g.id ? { id: g.id, name: g.subject } : null)))

  return [
    on('messages.upsert', ({ messages, type }) => takeMessages(messages, type === 'notify' ? 'notify' : 'append')),
    on('messaging-history.set', ({ chats: c, contacts, messages }) => {
      keepChats([...c.map(chatFromWaChat), ...contacts.map(chatFromContact)])
      takeMessages(messages, 'append')
    }),
    on('chats.upsert', (list) => keepChats(list.map(chatFromWaChat))),
    on('chats.update', (list) => keepChats(list.map(chatFromWaChat))),
    on('contacts.upsert', (list) => keepChats(list.map(chatFromContact))),
    on('contacts.update', (list) => keepChats(list.map(chatFromContact))),
    on('groups.upsert', groups),
    on('groups.update', groups),
    on('lid-mapping.update', retry),
  ]
}

/**
 * Journals what must not wait for messages.upsert, from the Signal layer and before Baileys
 * sends the receipt: WhatsApp does not redeliver an acknowledged message, so a crash between
 * the ack and `messages.upsert` must lose neither a vote nor the secret of a poll this account
 * created on another device. The message is read exactly as the upsert path reads it (same
 * unwrapping of ephemeral, view-once and edited wrappers, same key and timestamp), so both
 * sightings of one delivery journal the same vote. Resolves once all of it is committed.
 */
export async function journalPlaintext(p: SignalPlaintext, deps: Pick<IntakeDeps, 'votes' | 'now' | 'isOwn'>): Promise<void> {
  const receivedAt = deps.now()
  const msg = { key: p.envelope?.key ?? keyWithoutEnvelope(p, deps.isOwn), message: p.message,
    messageTimestamp: Math.floor((p.envelope?.timestampMs || receivedAt) / 1000) } as WAMessage
  const poll = pollFromMessage(msg)
  const vote = voteFromMessage(msg, 'signal', receivedAt)
  // The poll first: a vote for it in the same delivery is then decrypted, not parked.
  if (poll) await deps.votes.recordPollCreation(poll)
  // The message's Signal-key update commits with the vote (baileys-socket.ts journalingSignalRepository).
  if (vote) await deps.votes.ingestVote(vote, p.alongside)
}

/** The key as far as the Signal layer knows it, when the stanza was not seen (tests, tools). */
function keyWithoutEnvelope(p: SignalPlaintext, isOwn: (jid: string) => boolean): WAMessageKey {
  const author = baileys().jidNormalizedUser(p.author)
  const isGroup = p.chatId.endsWith('@g.us')
  return {
    remoteJid: isGroup ? p.chatId : author,
    participant: isGroup ? author : undefined,
    fromMe: isOwn(author),
  }
}

// --- reading Baileys messages

const toNumber = (v: unknown): number => (v == null ? 0 : Number(v))

/** The vote inside a message, as the journal keeps it, or null when the message is not a vote. */
export function voteFromMessage(msg: WAMessage, source: RawVote['source'], receivedAt: number): RawVote | null {
  const update = baileys().normalizeMessageContent(msg.message)?.pollUpdateMessage
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
  const content = baileys().normalizeMessageContent(msg.message)
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
export function chatFromMessage(msg: WAMessage): ChatSighting | null {
  const jid = msg.key.remoteJid
  if (!jid) return null
  if (jid.endsWith('@g.us') || msg.key.fromMe) return { id: jid }
  const pn = jid.endsWith('@lid') && msg.key.remoteJidAlt ? msg.key.remoteJidAlt : jid
  return { id: pn, name: msg.pushName ?? undefined }
}

export const chatFromWaChat = (c: Partial<WaChat>): ChatSighting | null => (c.id ? { id: c.id, name: c.name ?? undefined } : null)

export function chatFromContact(c: Partial<Contact>): ChatSighting | null {
  const id = c.phoneNumber && c.id?.endsWith('@lid') ? c.phoneNumber : c.id
  if (!id) return null
  return { id, name: c.name ?? c.notify ?? c.verifiedName ?? undefined }
}
