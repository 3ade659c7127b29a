import { jidNormalizedUser } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { ChatStore, ChatUpsert } from './chat-store.ts'
import type { VoteSink } from './vote-sink.ts'
import type { SignalPlaintext, WaSocket } from './wa-socket.ts'
import { subscribe } from './subscribe.ts'
import { chatFromContact, chatFromMessage, chatFromWaChat, pollFromMessage, voteFromMessage } from './wa-intake.ts'
import type { BaileysEventMap, GroupMetadata, WAMessage } from '@whiskeysockets/baileys'

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
  const keepChats = (list: Array<ChatUpsert | null>) => chats.upsert(list.filter(present))

  const takeMessages = (messages: WAMessage[], source: 'notify' | 'append') => {
    const receivedAt = now()
    for (const msg of messages) {
      const poll = pollFromMessage(msg)
      if (poll) votes.recordPollCreation(poll)
      const vote = voteFromMessage(msg, source, receivedAt)
      if (vote) votes.ingestVote(vote).catch((err) => log.error({ err, pollId: vote.pollId }, 'vote not journaled'))
    }
    keepChats(messages.map(chatFromMessage))
  }

  const on = <E extends keyof BaileysEventMap>(event: E, fn: (arg: BaileysEventMap[E]) => void) => subscribe(ev, event, fn)
  const retry = () => { votes.retryPending().catch((err) => log.error({ err }, 'pending vote retry failed')) }
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
 * Journals a vote from the Signal layer, before Baileys sends the receipt: WhatsApp does not
 * redeliver an acknowledged message, so a crash between ack and `messages.upsert` must not lose it.
 */
export function voteFromPlaintext(p: SignalPlaintext, deps: Pick<IntakeDeps, 'votes' | 'now' | 'ownUsers'>): Promise<void> {
  const update = p.message.pollUpdateMessage
  const pollId = update?.pollCreationMessageKey?.id
  if (!update?.vote?.encPayload || !update.vote.encIv || !pollId) return Promise.resolve()
  const isGroup = p.chatId.endsWith('@g.us')
  const author = jidNormalizedUser(p.author)
  const receivedAt = deps.now()
  return deps.votes.ingestVote({
    pollId,
    chatId: isGroup ? p.chatId : author,
    participant: isGroup ? author : undefined,
    fromMe: deps.ownUsers().includes(author.split('@')[0]!),
    senderTimestampMs: Number(update.senderTimestampMs ?? 0) || receivedAt,
    encPayload: update.vote.encPayload,
    encIv: update.vote.encIv,
    source: 'signal',
    receivedAt,
  })
}
