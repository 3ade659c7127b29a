import { EventEmitter } from 'node:events'
import type { AnyMessageContent, MiscMessageGenerationOptions } from '@whiskeysockets/baileys'
import type { SocketFactory, SocketOptions, WaSocket } from '../../../core/whatsapp/baileys-socket.ts'
import { AccountError } from '../../../contract/account.ts'
import type { VoteSink } from '../../../core/votes/sink.ts'
import { loadBaileys } from '../../../core/whatsapp/baileys-lib.ts'
import { loadAuthCodec } from '../../../store/codec.ts'

// A fake socket stands in for Baileys' socket only: the core reads its events with Baileys'
// helpers and the store decodes credentials with Baileys' codecs, both imported on first use
// (core/whatsapp/baileys-lib.ts, store/codec.ts). Imported here, so a test's first connection
// opens its socket as soon as it would with Baileys already loaded.
await Promise.all([loadBaileys(), loadAuthCodec()])

/** A Baileys socket reduced to what the session uses; tests drive its connection updates by hand. */
export class FakeSocket implements WaSocket {
  readonly emitter = new EventEmitter()
  readonly ev = {
    on: (event: string, fn: (arg: any) => void) => { this.emitter.on(event, fn) },
    off: (event: string, fn: (arg: any) => void) => { this.emitter.off(event, fn) },
  } as unknown as WaSocket['ev']
  user: WaSocket['user'] = undefined
  ended = 0
  loggedOut = 0
  sent: Array<{ jid: string; content: AnyMessageContent; options?: MiscMessageGenerationOptions }> = []
  sendError: Error | null = null
  groups: Record<string, { id: string; subject: string }> = {}
  constructor(readonly opts: SocketOptions) {}
  emit(event: string, arg: unknown) { this.emitter.emit(event, arg) }
  close(statusCode: number) {
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error: { output: { statusCode } } } })
  }
  open(user = { id: '15550000001:2@s.whatsapp.net', name: 'Me', lid: '900000000000001:2@lid' }) {
    this.user = user
    this.emit('connection.update', { connection: 'open' })
  }
  end() { this.ended++ }
  async logout() { this.loggedOut++; this.close(401) }
  async sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions) {
    if (this.sendError) throw this.sendError
    this.sent.push({ jid, content, options })
    return undefined
  }
  async groupFetchAllParticipating() { return this.groups as never }
  async requestPairingCode() { return 'CODE-1234' }
  listeners() { return this.emitter.eventNames().reduce((n, e) => n + this.emitter.listenerCount(e), 0) }
}

export function fakeSocketFactory() {
  const sockets: FakeSocket[] = []
  const factory: SocketFactory = (opts) => { const s = new FakeSocket(opts); sockets.push(s); return s }
  return { factory, sockets, last: () => sockets[sockets.length - 1]! }
}

/** Records what the session hands to the vote engine. */
export function recordingSink() {
  const calls = { prepared: [] as string[], sent: [] as string[], failed: [] as string[], created: [] as string[], votes: [] as string[], retries: 0 }
  const sink: VoteSink & { calls: typeof calls } = {
    calls,
    // As the engine does it: stored, delivered, then marked sent or failed.
    async sendPoll(input, deliver) {
      const id = `P${calls.prepared.length + 1}`
      calls.prepared.push(input.question)
      try {
        await deliver(id, new Uint8Array(32).fill(7))
      } catch (err) {
        calls.failed.push(`${id}:${(err as Error).message}`)
        throw new AccountError('rejected', 'WhatsApp did not accept the poll', (err as Error).message)
      }
      calls.sent.push(id)
      return { pollMsgId: id }
    },
    async recordPollCreation(p) { calls.created.push(p.id) },
    async ingestVote(raw) { calls.votes.push(`${raw.source}:${raw.pollId}:${raw.msgId ?? '-'}`) },
    async commitKeys(alongside) { alongside.take() },
    async retryPending() { calls.retries++ },
    async onLogin() { calls.retries++ },
    pollCreation: () => undefined,
  }
  return sink
}
