import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createEmitter } from '../../../contract/events.ts'
import { createIdentity } from '../../../core/identity.ts'
import { createVoteEngine } from '../../../core/votes/engine.ts'
import { fakeLidMapping, OWN, sentPoll, silentLog, vote, voter } from '../../core/votes/fixtures.ts'
import { startFakeWhatsApp, type FakeWhatsApp } from '../fake-wa/index.ts'
import { pairByQr } from '../harness/pair.ts'
import { removeDir, startServer, tempDir, waitFor, type ServerProcess } from '../harness/server-process.ts'
import { openStore, storedRows } from '../harness/store.ts'
import { changesStateByContract, describeSpec, encode, incomplete, specArb, type FuzzSpec } from './http-arbitraries.ts'
import { sendRaw, type RawOutcome } from './raw-http.ts'

/**
 * HTTP fuzz: FUZZ_RUNS generated hostile requests (default 10,000) against a real server
 * process that is not connected to WhatsApp (WA_WS_URL points at a closed port) and has
 * API_TOKEN set, then a fifth as many against one paired with the fake WhatsApp (no token).
 *
 * Contract checked for every request:
 * - an answer within 5 s; never a 5xx, except 503 `{ success: false }` for POST /send-poll and
 *   POST /pairing-code while WhatsApp is not connected (API.md: "503 when WhatsApp is not
 *   connected"); a request the HTTP layer itself rejects (Node's bare 400/413/414/431, no body)
 *   counts as a 4xx;
 * - every other failure is JSON `{ success: false, message: "<non-empty>" }` (the Socket.IO
 *   transport under /socket.io/ answers in engine.io's own format, and is only held to < 500);
 * - a POST never succeeds (the only state-changing requests, a valid poll and POST /logout
 *   with a valid token, are not generated), and no answer leaks files, the database or the token.
 * After the run: polls, chats and the stored rows are unchanged and GET /health answers 200.
 */

const RUNS = Math.min(200_000, Math.max(1, Number(process.env.FUZZ_RUNS) || 10_000))
const SEED = Number(process.env.FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31)
const TOKEN = 'fuzz-token-0123456789abcdef'
const NOT_CONNECTED = /not connected/i

interface Stats { requests: number; byStatus: Map<number | string, number> }

interface World {
  server: ServerProcess
  dataDir: string
  pollId: string
  fake?: FakeWhatsApp
  paired?: ServerProcess
  pairedDir?: string
  pairedPoll?: string
  stats: Stats
}

const fuzz = suite<World>(`HTTP fuzz (${RUNS} + ${Math.ceil(RUNS / 5)} requests, seed ${SEED})`, {} as World)

/** A data dir (the store E2E_STORE names) with a poll, votes and chats in it, so there is state to keep unchanged. */
async function seededDataDir(): Promise<{ dir: string; pollId: string }> {
  const dir = tempDir('pollwire-fuzz-')
  const store = await openStore(dir)
  const log = silentLog()
  const identity = createIdentity({ lidMapping: fakeLidMapping(), log })
  identity.setOwn({ id: OWN.pn, lid: OWN.lid, name: 'Owner' })
  const engine = await createVoteEngine({ log, journal: store.account('default').votes, identity, emitter: createEmitter(), pendingMaxAgeMs: Number.POSITIVE_INFINITY })
  const poll = await sentPoll(engine, ['Red', 'Blue', 'Green'], 0)
  await engine.ingestVote(vote(poll, voter(1), { choose: ['Red', 'Blue'], ts: 1000 }))
  await engine.ingestVote(vote(poll, voter(2), { choose: ['Green'], ts: 1001 }))
  await engine.close()
  await store.account('default').chats.upsert([{ id: '120363000000000001@g.us', name: 'Fuzz group' }, { id: '15551234567@s.whatsapp.net', name: 'Fuzz person' }])
  await store.close()
  return { dir, pollId: poll.id }
}

/** Every stored row that the API's state is made of, hashed per table (rows in a fixed order). */
async function storedState(dataDir: string, tables: string[]): Promise<Record<string, string>> {
  const hashed: Record<string, string> = {}
  for (const t of tables) {
    const rows = (await storedRows(dataDir, `SELECT * FROM ${t}`)).map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).sort()
    hashed[t] = createHash('sha256').update(JSON.stringify(rows)).digest('hex')
  }
  return hashed
}

async function apiState(server: ServerProcess, token?: string) {
  const get = async (path: string) => {
    const res = await fetch(server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
    return { status: res.status, body: await res.json() }
  }
  return { polls: await get('/get-all-poll-data'), chats: await get('/get-chats'), status: (await get('/status')).body.status }
}

const LEAKS = [/root:x:0:0/, /SQLite format 3/, /"noiseKey"/, /-----BEGIN/, new RegExp(TOKEN)]

/** Why `outcome` breaks the contract, or null. */
function violation(spec: FuzzSpec, outcome: RawOutcome): string | null {
  if (outcome.kind === 'timeout') return incomplete(spec) ? null : 'no answer within 5 s'
  if (outcome.kind === 'closed') {
    // Node drops a CONNECT nobody handles, and requests whose framing it cannot parse, without
    // a word. A server that answers a big body early (413, 404 ...) and closes while we still
    // send resets the connection, which can swallow its answer on our side.
    const early = spec.body.length > 64 * 1024
    return spec.method === 'CONNECT' || ['both', 'short'].includes(spec.framing) || early || incomplete(spec) ? null : 'connection closed without an answer'
  }
  const { status, headers, body } = outcome.response
  const text = body.toString('utf-8')
  for (const leak of LEAKS) if (leak.test(text)) return `answer leaks ${leak}`
  const bare = !headers['content-type'] && body.length === 0
  if (bare && [400, 413, 414, 431, 505].includes(status)) return null
  const target = spec.target.toString('latin1')
  const engineIo = /^(http:\/\/[^/]*)?\/socket\.io\//i.test(target)
  let json: any
  if (status >= 400 && !engineIo && spec.method !== 'HEAD') {
    try { json = JSON.parse(text) } catch { return `${status} without a JSON body: ${JSON.stringify(text.slice(0, 100))}` }
    if (json?.success !== false || typeof json.message !== 'string' || !json.message) return `${status} body is not { success: false, message }: ${text.slice(0, 200)}`
  }
  if (status >= 500) {
    if (status === 503 && spec.method === 'POST' && NOT_CONNECTED.test(json?.message ?? '')) return null
    return `${status}: ${text.slice(0, 200)}`
  }
  if (spec.method === 'POST' && status < 300 && !engineIo) return `a POST succeeded (${status}): ${text.slice(0, 200)}`
  return null
}

async function run(w: World, server: ServerProcess, pollId: string, runs: number, token: string | null, connected: boolean): Promise<void> {
  // the token guard reads `Bearer` in any case and trims the token: these modes are authorized
  const authorized = (spec: FuzzSpec) => token === null || ['good', 'lowercase', 'spaces'].includes(spec.auth)
  const arb = specArb(pollId).filter((spec) => !changesStateByContract(spec, authorized(spec), connected))
  const details = await fc.check(fc.asyncProperty(arb, async (spec) => {
    const outcome = await sendRaw(server.port, encode(spec, server.port, token), incomplete(spec) ? 500 : 5000)
    w.stats.requests++
    const key = outcome.kind === 'response' ? outcome.response.status : outcome.kind
    w.stats.byStatus.set(key, (w.stats.byStatus.get(key) ?? 0) + 1)
    const why = violation(spec, outcome)
    if (why) throw new Error(`${why}\n  request: ${describeSpec(spec)}`)
  }), { numRuns: runs, seed: SEED, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true })
  // fast-check's own report prints the request bodies in full (up to a megabyte): say it shorter
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? 'interrupted')
    throw new Error(`HTTP fuzz failed after ${details.numRuns} requests (seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks}x): ${cause}`)
  }
}

fuzz.before(async (w) => {
  w.stats = { requests: 0, byStatus: new Map() }
  const { dir, pollId } = await seededDataDir()
  w.dataDir = dir
  w.pollId = pollId
  w.server = await startServer({ waWsUrl: 'ws://127.0.0.1:9/ws/chat', dataDir: dir, token: TOKEN, env: { LOG_LEVEL: 'warn' } })
})

fuzz.after(async (w) => {
  await w.server?.stop()
  await w.paired?.stop()
  await w.fake?.close()
  for (const dir of [w.dataDir, w.pairedDir]) if (dir) removeDir(dir)
})

fuzz(`${RUNS} requests to a disconnected server with API_TOKEN: only 4xx or the contract's 503, nothing changes`, async (w) => {
  const tables = ['poll_record', 'vote_journal', 'vote_person', 'chats', 'auth_creds', 'auth_keys']
  const before = { api: await apiState(w.server, TOKEN), rows: await storedState(w.dataDir, tables) }
  assert.is(before.api.status, 'disconnected')
  assert.ok(before.api.polls.body.polls[w.pollId], 'the seeded poll is there')
  await run(w, w.server, w.pollId, RUNS, TOKEN, false)
  assert.equal(await apiState(w.server, TOKEN), before.api, 'polls, chats and status unchanged')
  assert.equal(await storedState(w.dataDir, tables), before.rows, 'stored rows unchanged')
  assert.is((await fetch(`${w.server.url}/health`)).status, 200)
  assert.is(w.server.proc.exitCode, null, 'still running')
  const unhandled = w.server.logs.filter((l) => l.includes('unhandled error'))
  assert.ok(!unhandled.length, `unhandled errors logged:\n${unhandled.slice(0, 3).map((l) => l.slice(0, 1500)).join('\n')}`)
})

fuzz(`${Math.ceil(RUNS / 5)} requests to a server paired with the fake WhatsApp: the same, and the link survives`, async (w) => {
  w.fake = await startFakeWhatsApp({ ownerPn: '15550000074', ownerLid: '900000000000074' })
  const alice = w.fake.addContact({ pn: '15552250001', lid: '81000000301', name: 'Alice' })
  w.pairedDir = tempDir('pollwire-fuzz-paired-')
  w.paired = await startServer({ waWsUrl: w.fake.url, dataDir: w.pairedDir, env: { LOG_LEVEL: 'warn' } })
  await pairByQr(w.paired, w.fake)
  await w.fake.waitForInitialSync({ timeoutMs: 20_000 })
  const sent = await w.paired.post('/send-poll', { chatId: alice.pnJid, question: 'Fuzz?', options: ['Yes', 'No'] })
  assert.is(sent.status, 200)
  const pollId = sent.body.pollMsgId
  await w.fake.waitForPoll(pollId)
  await waitFor('alice has the poll', () => alice.receivedPoll(pollId))
  await alice.vote({ pollId, options: ['Yes'] })
  await waitFor('the vote counts', async () => (await w.paired!.get(`/polls/${pollId}`)).body.results?.Yes === 1)
  const polls = w.fake.polls.length
  const tables = ['poll_record', 'vote_journal', 'vote_person', 'chats']
  const before = { api: await apiState(w.paired), rows: await storedState(w.pairedDir, tables) }
  await run(w, w.paired, pollId, Math.ceil(RUNS / 5), null, true)
  assert.equal(await apiState(w.paired), before.api, 'polls, chats and status unchanged')
  assert.equal(await storedState(w.pairedDir, tables), before.rows, 'stored rows unchanged')
  assert.is(w.fake.polls.length, polls, 'no poll went out')
  assert.is((await fetch(`${w.paired.url}/health`)).status, 200)
  const unhandled = w.paired.logs.filter((l) => l.includes('unhandled error'))
  assert.ok(!unhandled.length, `unhandled errors logged:\n${unhandled.slice(0, 3).map((l) => l.slice(0, 1500)).join('\n')}`)
  const summary = [...w.stats.byStatus].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([k, n]) => `${k}×${n}`).join(' ')
  console.log(`  http fuzz: seed ${SEED}, ${w.stats.requests} requests: ${summary}`)
})

fuzz.run()
