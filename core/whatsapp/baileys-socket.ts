import makeWASocket, { decodeMessageNode, DEFAULT_CONNECTION_CONFIG, jidNormalizedUser, proto, unpadRandomMax16 } from '@whiskeysockets/baileys'
import type { AnyMessageContent, AuthenticationState, BaileysEventEmitter, BinaryNode, GroupMetadata, MiscMessageGenerationOptions, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { AlongsideWrites, AuthState, KeyHold } from '../../store/ports.ts'
import { installNativeX25519 } from './native-x25519.ts'
import { installNativeXeddsa } from './native-xeddsa.ts'
import { createOutboundGate, type OutboundGate, type SendFrame } from './outbound-gate.ts'

/**
 * Group messages' XEdDSA signatures checked by native Ed25519 rather than libsignal's pure JS
 * (about 6 ms → 0.1 ms each): installed when this module loads, before any socket exists, for
 * every account (see native-xeddsa.ts).
 */
const nativeXeddsa = installNativeXeddsa()
let xeddsaWarned = false
/** Session set-up and ratchet steps without libsignal's DER round trips (see native-x25519.ts). */
const nativeX25519 = installNativeX25519()
let x25519Warned = false

/**
 * Accounts whose last vote commit failed: their next connections await each commit under
 * Baileys' lock again (a failure then refuses just that message, as Baileys does, instead of
 * closing the connection), until a commit succeeds. Keyed by the account's key store.
 */
const failing = new WeakSet<KeyWrites>()

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
  /** the message's envelope as messages.upsert will carry it; absent when its stanza was not seen */
  envelope?: Envelope
  /** the Signal-key update of this message, to commit in the transaction that journals its vote */
  alongside?: AlongsideWrites
}

/** What the stanza around a ciphertext says: the message key and the server's timestamp. */
export interface Envelope {
  key: WAMessageKey
  /** the stanza's `t`, in ms */
  timestampMs: number
}

/** The envelope of the stanza that carried a ciphertext (the very bytes Baileys decrypts). */
export type EnvelopeLookup = (ciphertext: Uint8Array) => Envelope | undefined

export interface SocketOptions {
  auth: AuthenticationState
  logger: Logger
  waWebSocketUrl?: string
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>
  /** awaited before Baileys sends the receipt: the place to make a vote durable first */
  onPlaintext?(p: SignalPlaintext): Promise<void>
  /** holds a message's Signal-key writes back so its vote's commit carries them (one fsync, not two) */
  keyWrites?: KeyWrites
  /** commits the held key writes of a message that carried no vote with the next votes (VoteSink.commitKeys) */
  commitKeys?(alongside: AlongsideWrites): Promise<void>
}

/** The auth state's held Signal-key writes (store/key-staging.ts). */
export type KeyWrites = Pick<AuthState, 'holdKeys' | 'resetHeldKeys'>

/** Hands a vote's commit to the outbound gate; false when there is none (the caller awaits it). */
export type CommitHold = (commit: Promise<unknown>) => boolean

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
 * it (and so before the receipt). The ratchet step that spent the message key must not commit
 * before the vote the message carried: committed first, a crash in between would leave a
 * redelivered copy undecryptable, and the vote would depend on the voter's phone answering a
 * retry receipt.
 *
 * With `keyWrites`, the message's key writes are held back (store/key-staging.ts) and handed to
 * the vote as `alongside`: the journal commits both in one transaction, one fsync per message
 * instead of two in a row under Baileys' message lock. With `holdCommit` as well, the
 * decryption returns before that commit, which the outbound gate waits for before anything else
 * goes out (the receipt first): the next messages join the same group commit. With
 * `commitKeys`, a message that carried no vote (a sender-key distribution: a group member's
 * first message after a key change; a text) and the processing of a sender-key distribution
 * hand their held key writes to the next group commit too, instead of a transaction each. Without
 * `keyWrites`, the vote is awaited inside Baileys' key transaction, which commits the keys after it.
 */
export function journalingSignalRepository(onPlaintext: (p: SignalPlaintext) => Promise<void>, envelopeOf: EnvelopeLookup = () => undefined,
  keyWrites?: KeyWrites, holdCommit: CommitHold = () => false, commitKeys?: (alongside: AlongsideWrites) => Promise<void>): MakeSignalRepository {
  return (signalAuth, signalLogger, pnToLid) => {
    const repo = DEFAULT_CONNECTION_CONFIG.makeSignalRepository(signalAuth, signalLogger, pnToLid)
    const keys = signalAuth.keys
    // Baileys hands over a store with transactions; a nested one joins it, so ours is the one that commits.
    const inTransaction = <T>(key: string, work: () => Promise<T>): Promise<T> =>
      'transaction' in keys ? keys.transaction(work, key) : work()

    /** Decrypts in a key transaction; the plaintext is journaled before this resolves. */
    const journaling = (txKey: string, decrypt: () => Promise<Uint8Array>, report: (message: proto.IMessage) => Omit<SignalPlaintext, 'message'>) => {
      if (!keyWrites) {
        return inTransaction(txKey, async () => {
          const buf = await decrypt()
          const message = decodePlain(buf)
          if (message) await onPlaintext({ ...report(message), message })
          return buf
        })
      }
      return holding(keyWrites, (hold, journal) => inTransaction(txKey, async () => {
        const buf = await decrypt()
        const message = decodePlain(buf)
        if (message) journal(onPlaintext({ ...report(message), message, alongside: hold.alongside() }))
        return buf
      }))
    }

    /**
     * Runs `work` with its key writes held; returns once it is done, and the writes become
     * durable with the vote `work` journals (if any), else with the next group commit
     * (`commitKeys`), else on their own. The outbound gate waits for that before anything goes
     * out after it; without a gate, this awaits it.
     */
    const holding = async <T>(kw: KeyWrites, work: (hold: KeyHold, journal: (vote: Promise<void>) => void) => Promise<T>): Promise<T> => {
      const hold = kw.holdKeys()
      let journaled: Promise<void> | undefined
      let value: T
      try {
        value = await hold.run(() => work(hold, (vote) => {
          journaled = vote
          // Awaited below, once Baileys' transaction has handed over (staged) the key writes.
          vote.catch(() => undefined)
        }))
      } catch (err) {
        hold.drop()
        throw err
      }
      const durable = (async () => {
        try {
          await journaled
          if (commitKeys && hold.held()) await commitKeys(hold.alongside())
          await hold.finish()
        } catch (err) {
          hold.drop()
          throw err
        }
      })()
      if (holdCommit(durable)) {
        durable.catch(() => undefined)
        return value
      }
      await durable
      return value
    }

    const decryptMessage = repo.decryptMessage.bind(repo)
    const decryptGroupMessage = repo.decryptGroupMessage.bind(repo)
    repo.decryptMessage = (opts) => journaling(opts.jid, () => decryptMessage(opts),
      () => ({ chatId: opts.jid, author: opts.jid, envelope: envelopeOf(opts.ciphertext) }))
    repo.decryptGroupMessage = (opts) => journaling(opts.group, () => decryptGroupMessage(opts),
      () => ({ chatId: opts.group, author: opts.authorJid, envelope: envelopeOf(opts.msg) }))
    // A sender-key distribution writes the sender's key (twice: an empty record, then the key).
    const processDistribution = repo.processSenderKeyDistributionMessage.bind(repo)
    if (keyWrites && commitKeys) repo.processSenderKeyDistributionMessage = (opts) => holding(keyWrites, () => processDistribution(opts))
    return repo
  }
}

/**
 * The Signal layer sees only ciphertext and a sender, not the message id or timestamp; the
 * stanza that carried the ciphertext has both. Every incoming message frame is remembered by
 * its ciphertext bytes (the same objects Baileys hands to the repository; weakly held, so a
 * frame is forgotten with its message), and decoded with Baileys' own decodeMessageNode only
 * when a plaintext turns out to be a vote or a poll: the Signal-layer sighting then carries
 * the same key and timestamp as the messages.upsert one.
 */
export function createEnvelopeIndex(me: () => { id?: string; lid?: string } | undefined) {
  const stanzas = new WeakMap<Uint8Array, BinaryNode>()
  return {
    remember(node: BinaryNode): void {
      if (node.tag !== 'message' || !Array.isArray(node.content)) return
      for (const child of node.content) if (child.content instanceof Uint8Array) stanzas.set(child.content, node)
    },
    lookup(ciphertext: Uint8Array): Envelope | undefined {
      const node = stanzas.get(ciphertext)
      const { id, lid } = me() ?? {}
      if (!node || !id) return undefined
      try {
        const { fullMessage } = decodeMessageNode(node, id, lid ?? '')
        const key = fullMessage.key
        // As Baileys' cleanMessage does before messages.upsert: no device in the chat or participant.
        const normal: WAMessageKey = { ...key, remoteJid: jidNormalizedUser(key.remoteJid ?? undefined) }
        if (key.participant) normal.participant = jidNormalizedUser(key.participant)
        return { key: normal, timestampMs: Number(fullMessage.messageTimestamp ?? 0) * 1000 }
      } catch {
        return undefined
      }
    },
  }
}

/** The real Baileys socket, with a Signal repository that reports plaintexts before the ack. */
export const createBaileysSocket: SocketFactory = ({ auth, logger, waWebSocketUrl, getMessage, onPlaintext, keyWrites, commitKeys }) => {
  if (!nativeXeddsa.installed && !xeddsaWarned) {
    xeddsaWarned = true
    logger.warn({ reason: nativeXeddsa.reason }, 'native XEdDSA verify not installed: group message signatures are checked in pure JS (slow)')
  }
  if (!nativeX25519.installed && !x25519Warned) {
    x25519Warned = true
    logger.warn({ reason: nativeX25519.reason }, 'native X25519 keys not installed: libsignal\'s own agreements are used (slower session set-up)')
  }
  const envelopes = createEnvelopeIndex(() => auth.creds.me ?? undefined)
  // Set right after the socket is made, before any message can arrive.
  let gate: OutboundGate | undefined
  const holdCommit: CommitHold = (commit) => {
    if (!gate || !keyWrites) return false
    if (failing.has(keyWrites)) {
      commit.then(() => failing.delete(keyWrites), () => undefined)
      return false
    }
    gate.hold(commit)
    return true
  }
  const sock = makeWASocket({
    auth,
    logger: logger.child({ module: 'baileys' }),
    ...(waWebSocketUrl ? { waWebSocketUrl } : {}),
    getMessage,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    ...(onPlaintext ? { makeSignalRepository: journalingSignalRepository(onPlaintext, envelopes.lookup, keyWrites, holdCommit, commitKeys) } : {}),
  })
  // 'frame' is emitted for every decoded frame before the CB:message handlers that decrypt it.
  if (onPlaintext) sock.ws.on('frame', envelopes.remember)
  // Every frame Baileys sends passes the WebSocket's own send, looked up on each call.
  const raw = (sock.ws as unknown as { socket?: { send: SendFrame } }).socket
  if (onPlaintext && keyWrites && raw) {
    const send = raw.send.bind(raw)
    gate = createOutboundGate({
      send,
      fail: (err) => {
        logger.error({ err }, 'a vote could not be journaled: closing the connection so WhatsApp delivers it again')
        failing.add(keyWrites)
        keyWrites.resetHeldKeys()
        sock.end(err instanceof Error ? err : new Error(String(err)))
      },
    })
    raw.send = gate.send
  }
  return sock
}
