import { jidNormalizedUser } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { ChatStore, ChatUpsert } from './chat-store.ts'
import type { VoteSink } from './vote-sink.ts'
import type { SignalPlaintext, WaSocket } from './wa-socket.ts'
import { subscribe } from './subscribe.ts'
import { chatFromContact, chatFromMessage, chatFromWaChat, pollFromMessage, voteFromMessage } from './wa-intake.ts'
import type { BaileysEventMap, GroupMetadata, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'

export interface IntakeDeps {
  chats: ChatStore
  votes: VoteSink
  log: Logger
  now: () => number
  /** own account user parts (PN and LID), to tell our own votes from others' */
  ownUsers: () => string[]
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
  const keepChats = (list: Array<ChatUpsert | null>) => {
    try { chats.upsert(list.filter(present)) } catch (err) { log.warn({ err }, 'chats not saved') }
  }

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
export async function journalPlaintext(p: SignalPlaintext, deps: Pick<IntakeDeps, 'votes' | 'now' | 'ownUsers'>): Promise<void> {
  const receivedAt = deps.now()
  const msg = { key: p.envelope?.key ?? keyWithoutEnvelope(p, deps.ownUsers()), message: p.message,
    messageTimestamp: Math.floor((p.envelope?.timestampMs || receivedAt) / 1000) } as WAMessage
  const poll = pollFromMessage(msg)
  const vote = voteFromMessage(msg, 'signal', receivedAt)
  // The poll first: a vote for it in the same delivery is then decrypted, not parked.
  if (poll) await deps.votes.recordPollCreation(poll)
  if (vote) await deps.votes.ingestVote(vote)
}

/** The key as far as the Signal layer knows it, when the stanza was not seen (tests, tools). */
function keyWithoutEnvelope(p: SignalPlaintext, ownUsers: string[]): WAMessageKey {
  const author = jidNormalizedUser(p.author)
  const isGroup = p.chatId.endsWith('@g.us')
  return {
    remoteJid: isGroup ? p.chatId : author,
    participant: isGroup ? author : undefined,
    fromMe: ownUsers.includes(author.split('@')[0]!),
  }
}
