import { startFakeWhatsApp, type FakeWhatsApp } from '../test/e2e/fake-wa/index.ts'
import type { Row } from './table.ts'
import { spawnServer, type Spawned } from './server.ts'
import { removeDir, tempDir } from './votes.ts'

/** accounts linked for the figures (BENCH_ACCOUNTS), the first being `default` */
const N = Number(process.env.BENCH_ACCOUNTS ?? 20)
/** how long the linked accounts sit idle before memory is read (history and app-state syncs done) */
const IDLE_MS = 3000
/** the server's gap between two accounts' first connections at start (runtime/accounts.ts) */
const STAGGER_MS = 250

interface Memory { rssMb: number; heapMb: number }
interface Start { servingMs: number; readyMs: number }

/**
 * 7. Several accounts (issue #14), on the real server (a child process: real Baileys, SQLite)
 * against one fake WhatsApp serving N owners on one port:
 * - memory per idle linked account: RSS and live heap (after a full GC) with N linked accounts,
 *   against the same server with one (`default`), divided by the N − 1 added;
 * - start-up: process start → GET /accounts listing every account, and → every account `ready`
 *   again (saved credentials, no QR; the server staggers the connections 250 ms apart plus
 *   jitter), with N accounts against one.
 */
export async function benchAccounts(log: (s: string) => void): Promise<{ rows: Row[] }> {
  const dir = tempDir('accounts')
  const fake = await startFakeWhatsApp({ defaultTimeoutMs: 30_000 })
  const owners: FakeWhatsApp[] = [fake]
  for (let i = 2; i <= N; i++) {
    owners.push(fake.addOwner({ ownerPn: `15550${String(i).padStart(6, '0')}`, ownerLid: `900000000${String(i).padStart(6, '0')}`, ownerName: `Account ${i}`, defaultTimeoutMs: 30_000 }))
  }
  const ids = ['default', ...owners.slice(1).map((_, i) => `acct-${String(i + 2).padStart(2, '0')}`)]
  let server: Spawned | undefined
  try {
    server = await spawn(dir, fake)
    await pair(server, 'default', fake)
    const one = await idleMemory(server)
    await server.stop()
    const startOne = await timedStart(dir, fake, ['default'])
    server = startOne.server
    for (let i = 1; i < N; i++) {
      const res = await fetch(`${server.url}/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: ids[i] }) })
      if (res.status !== 201) throw new Error(`POST /accounts ${ids[i]}: ${res.status} ${await res.text()}`)
      await pair(server, ids[i]!, owners[i]!)
    }
    const many = await idleMemory(server)
    await server.stop()
    const startMany = await timedStart(dir, fake, ids)
    server = startMany.server
    const perRss = (many.rssMb - one.rssMb) / (N - 1)
    const perHeap = (many.heapMb - one.heapMb) / (N - 1)
    log(`  1 account: RSS ${one.rssMb.toFixed(0)} MB, heap ${one.heapMb.toFixed(1)} MB; ${N}: RSS ${many.rssMb.toFixed(0)} MB, heap ${many.heapMb.toFixed(1)} MB`)
    log(`  start with 1: serving ${startOne.servingMs.toFixed(0)} ms, ready ${startOne.readyMs.toFixed(0)} ms; with ${N}: serving ${startMany.servingMs.toFixed(0)} ms, all ready ${startMany.readyMs.toFixed(0)} ms`)
    const readyTarget = (N - 1) * STAGGER_MS + 2 * STAGGER_MS + 2000
    return {
      rows: [
        { section: '7. accounts', measure: `RSS per idle linked account (${N} against 1)`, value: perRss, unit: 'MB', baseline: 'RSS with 1 linked account', baselineValue: one.rssMb, ratio: perRss / one.rssMb, target: '≤ 20 MB (50 accounts in about 1 GB)', pass: perRss <= 20 },
        { section: '7. accounts', measure: `live heap per idle linked account (${N} against 1, after a full GC)`, value: perHeap, unit: 'MB', baseline: 'live heap with 1 linked account', baselineValue: one.heapMb, ratio: perHeap / one.heapMb, target: '–', pass: null },
        { section: '7. accounts', measure: `start → GET /accounts serving ${N} accounts`, value: startMany.servingMs, unit: 'ms', baseline: 'same start, 1 account', baselineValue: startOne.servingMs, ratio: startMany.servingMs / startOne.servingMs, target: '≤ 1.2× one account', pass: startMany.servingMs <= 1.2 * startOne.servingMs },
        { section: '7. accounts', measure: `start → all ${N} accounts ready again (no QR; staggered ${STAGGER_MS} ms + jitter)`, value: startMany.readyMs, unit: 'ms', baseline: 'same start, 1 account ready', baselineValue: startOne.readyMs, ratio: startMany.readyMs / startOne.readyMs, target: `≤ ${readyTarget.toLocaleString('en')} ms (the stagger + 2 s)`, pass: startMany.readyMs <= readyTarget },
      ],
    }
  } finally {
    await server?.stop()
    await fake.close()
    removeDir(dir)
  }
}

function spawn(dir: string, fake: FakeWhatsApp): Promise<Spawned> {
  // The GC hook (SIGUSR2: full GC, then process.memoryUsage() on stderr) so heap figures are live memory.
  return spawnServer(dir, { imports: ['./test/load/gc-hook.mjs', './test/e2e/fake-wa/preload.ts'], env: { WA_WS_URL: fake.url } })
}

const prefix = (id: string) => (id === 'default' ? '' : `/accounts/${id}`)
/** The answer's JSON, or {} while the server is not listening yet. */
const getJson = async (s: Spawned, path: string): Promise<any> => {
  try { return await (await fetch(s.url + path)).json() } catch { return {} }
}

/** Links one account by its QR, as a user would, and waits for its first sync. */
async function pair(s: Spawned, id: string, owner: FakeWhatsApp) {
  const qr = await until(`${id}: a QR`, async () => {
    const st = await getJson(s, `${prefix(id)}/status`)
    return st.status === 'qr_pending' && st.qrCode ? st.qrCode as string : undefined
  })
  await owner.phone.scanQr(qr)
  await until(`${id}: ready`, async () => (await getJson(s, `${prefix(id)}/status`)).status === 'ready' || undefined)
  await owner.waitForInitialSync()
}

async function idleMemory(s: Spawned): Promise<Memory> {
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const seen = s.logs.length
  s.proc.kill('SIGUSR2')
  const line = await until('the GC report', () => s.logs.slice(seen).find((l) => l.startsWith('{"loadTestMemory"')))
  const m = (JSON.parse(line) as { loadTestMemory: NodeJS.MemoryUsage }).loadTestMemory
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 }
}

/** Spawn → GET /accounts lists every account (serving), → every account ready (its saved login). */
async function timedStart(dir: string, fake: FakeWhatsApp, ids: string[]): Promise<Start & { server: Spawned }> {
  const server = await spawn(dir, fake)
  const listed = await until('every account listed', async () => {
    try {
      const res = await fetch(`${server.url}/accounts`)
      const at = performance.now()
      const body = await res.json() as { accounts?: Array<{ id: string }> }
      return body.accounts?.length === ids.length ? at : undefined
    } catch { return undefined }
  })
  await until('every account ready', async () => {
    const body = await getJson(server, '/accounts') as { accounts?: Array<{ status: string }> }
    return body.accounts?.every((a) => a.status === 'ready') || undefined
  })
  const ready = performance.now()
  return { server, servingMs: listed - server.spawnedAt, readyMs: ready - server.spawnedAt }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
