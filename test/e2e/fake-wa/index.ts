/**
 * A fake WhatsApp Web server for tests that drive the real Baileys client:
 *
 *   const fake = await startFakeWhatsApp()
 *   const alice = fake.addContact({ pn: '15551110001', lid: '80000000001', name: 'Alice' })
 *   // makeWASocket({ waWebSocketUrl: fake.url, ... }); on connection.update.qr:
 *   await fake.phone.scanQr(qr)
 *
 * The process running Baileys must trust the fake's certificate root: in-process call
 * trustTestRoot(); for a child process pass `--import ./test/e2e/fake-wa/preload.ts`.
 */
export { FakeWhatsApp, startFakeWhatsApp } from './server.ts'
export type { FakeWhatsAppOptions, WaitOptions } from './server.ts'
export { FakeContact } from './contact.ts'
export type { ContactSpec, JidKind, ReceivedPoll, SealedVote, SendOptions, VoteOptions, VoteRecord, VoteWrap } from './contact.ts'
export { FakeGroup } from './group.ts'
export type { AddressingMode, GroupSpec } from './group.ts'
export { FakePhone } from './phone.ts'
export type { LinkedDevice, PhonePoll, PhonePollSpec } from './phone.ts'
export type { AckRecord, DecryptedPoll, DeliveredRecord, PollRecord, ReceiptRecord, StanzaRecord } from './records.ts'
export { encryptPollVote, optionHash } from './poll-crypto.ts'
export { TEST_ROOT_PUBLIC_KEY, trustTestRoot } from './test-root-key.ts'
export { silenceLibsignalLogs } from './quiet-libsignal.ts'
