import { startFakeWhatsApp, type ContactSpec, type FakeContact, type FakeWhatsApp, type FakeWhatsAppOptions } from '../fake-wa/index.ts'
import { pairByQr } from './pair.ts'
import { startServer, tempDir, type ServerProcess } from './server-process.ts'

export interface LinkedGroup {
  fake: FakeWhatsApp
  alice: FakeContact
  bob: FakeContact
  server: ServerProcess
  dataDir: string
  /** the extra group members of LinkedGroupSpec.members, in order */
  members: FakeContact[]
}

export interface LinkedGroupSpec {
  fake: FakeWhatsAppOptions
  /** Alice's and Bob's phone numbers and LIDs */
  alice: { pn: string; lid: string }
  bob: { pn: string; lid: string }
  group: { id: string; subject: string }
  dataDirPrefix: string
  /** a data directory to use instead of a fresh temporary one */
  dataDir?: string
  /** more contacts, members of the group too */
  members?: ContactSpec[]
  /** extra environment for the server (LOG_LEVEL is info unless set here) */
  env?: Record<string, string>
}

/**
 * The common start of a scenario: a fake WhatsApp with Alice and Bob in one group, the real
 * server paired by its QR, and the first history sync done (chats and contacts are in).
 */
export async function startLinkedGroup(spec: LinkedGroupSpec): Promise<LinkedGroup> {
  const fake = await startFakeWhatsApp(spec.fake)
  const alice = fake.addContact({ ...spec.alice, name: 'Alice' })
  const bob = fake.addContact({ ...spec.bob, name: 'Bob' })
  const members = (spec.members ?? []).map((m) => fake.addContact(m))
  fake.addGroup({ ...spec.group, participants: [alice, bob, ...members] })
  const dataDir = spec.dataDir ?? tempDir(spec.dataDirPrefix)
  const server = await startServer({ waWsUrl: fake.url, dataDir, env: { LOG_LEVEL: 'info', ...spec.env } })
  await pairByQr(server, fake)
  await fake.waitForInitialSync({ timeoutMs: 20_000 })
  return { fake, alice, bob, server, dataDir, members }
}
