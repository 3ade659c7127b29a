import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { startLinkedGroup, type LinkedGroup } from './harness/linked.ts'
import { removeDir, tempDir, waitFor } from './harness/server-process.ts'
import { failPostgresWrites, onPostgres } from './harness/store.ts'

/**
 * A real full disk under the real server: DATA_DIR on a small tmpfs, filled to the last byte
 * while group members vote. Votes the server acknowledged are counted; the others are not
 * acknowledged (WhatsApp's retries bring them again); the store error is reported once with
 * SQLite's own message; /health says 503 while it lasts and recovers by itself.
 *
 * Mounting needs root (CI and the dev machines run as root); elsewhere the suite says so and skips.
 * On PostgreSQL (E2E_STORE=postgres) the database's writes fail with its own disk_full error
 * instead (a trigger on every table, as test/store/pg-harness.ts failWritesSync does), the rest alike.
 */

const GROUP = '120363000000000091@g.us'
const isRoot = process.getuid?.() === 0

interface World extends LinkedGroup { mount: string; filler: string; pollId: string }

const full = suite<World>(onPostgres ? 'disk full (PostgreSQL writes fail with disk_full)' : 'disk full (DATA_DIR on a 16 MB tmpfs)', {} as World)
const runs = isRoot || onPostgres

full.before(async (w) => {
  if (!runs) return
  w.mount = tempDir('pollwire-diskfull-')
  if (!onPostgres) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', w.mount])
  const dataDir = join(w.mount, 'data')
  mkdirSync(dataDir, { mode: 0o700 })
  w.filler = join(w.mount, 'filler')
  Object.assign(w, await startLinkedGroup({
    fake: { ownerPn: '15550000091', ownerLid: '900000000000091', defaultTimeoutMs: 15_000 },
    alice: { pn: '15552910001', lid: '81000009101' },
    bob: { pn: '15552910002', lid: '81000009102' },
    members: Array.from({ length: 6 }, (_, i) => ({ pn: `1555291010${i}`, lid: `8100000920${i}`, name: `Member ${i}` })),
    group: { id: GROUP, subject: 'Full disk' },
    dataDirPrefix: 'unused-',
    dataDir,
  }))
  const sent = await w.server.post('/send-poll', { chatId: GROUP, question: 'Still counting?', options: ['Yes', 'No'] })
  assert.is(sent.status, 200)
  w.pollId = sent.body.pollMsgId
  await w.fake.waitForPoll(w.pollId)
})

full.after(async (w) => {
  await w.server?.kill9()
  await w.fake?.close()
  if (w.mount) {
    if (!onPostgres) try { execFileSync('umount', [w.mount]) } catch { /* already gone */ }
    removeDir(w.mount)
  }
})

/** Writes zeros until the file system says ENOSPC (on PostgreSQL: makes the database's writes fail). */
async function fillDisk(w: World): Promise<void> {
  if (onPostgres) return failPostgresWrites(w.dataDir, true)
  const path = w.filler
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
}

/** Space again. */
const freeDisk = (w: World) => (onPostgres ? failPostgresWrites(w.dataDir, false) : unlinkSync(w.filler))

full('votes during a full disk: acknowledged ones count, the error is reported once, /health recovers', async (w) => {
  if (!runs) { console.log('  skipped: mounting a tmpfs needs root'); return }
  const voters = [w.alice, w.bob, ...w.members]
  await w.alice.vote({ pollId: w.pollId, options: ['Yes'] })
  await waitFor('the first vote', async () => (await w.server.get(`/polls/${w.pollId}`)).body?.results?.Yes === 1)

  await fillDisk(w)
  // SQLite reuses the space its WAL file already has: writes fail once the WAL must grow.
  const during: string[] = []
  for (let round = 0; round < 40 && (await w.server.get('/health')).status === 200; round++) {
    for (const v of voters.slice(1)) during.push(await v.vote({ pollId: w.pollId, options: [round % 2 ? 'Yes' : 'No'], senderTimestampMs: Date.now() }))
    await new Promise((r) => setTimeout(r, 100))
  }
  await waitFor('/health 503', async () => (await w.server.get('/health')).status === 503, 15_000)
  // The first vote that cannot be journaled closes the connection (its receipt, held until the
  // commit, is never sent); the account connects again and stays connected while writes fail.
  await waitFor('/health: connected, the store failing', async () =>
    JSON.stringify((await w.server.get('/health')).body) === JSON.stringify({ ok: false, whatsapp: 'ready', store: 'error' }), 20_000)

  await freeDisk(w)
  await waitFor('/health 200 once space returns', async () => (await w.server.get('/health')).status === 200, 15_000)

  // Nothing was lost: every vote sent while the disk was full is in the journal (Baileys held
  // the messages while its key commit failed, WhatsApp's retries bring what was refused).
  await waitFor('every vote of the full-disk period journaled', async () => {
    const votes = (await w.server.get(`/polls/${w.pollId}/votes`)).body?.votes as Array<{ status: string }> | undefined
    return votes && votes.filter((v) => v.status !== 'duplicate').length >= 1 + during.length
  }, 30_000)
  const counted = (await w.server.get(`/polls/${w.pollId}`)).body
  assert.is(counted.results.Yes + counted.results.No, voters.length, 'one current vote per voter')

  // After the disk recovered, every voter's new vote counts.
  for (const v of voters) await v.vote({ pollId: w.pollId, options: ['Yes'] })
  await waitFor('every voter counted', async () => (await w.server.get(`/polls/${w.pollId}`)).body?.results?.Yes === voters.length, 20_000)

  // Reported once per change of state, never once per failed write: a report follows a
  // recovery (the reconnection's own small writes can fit in the space left, then the next fails).
  const failures = w.server.logs.filter((l) => l.includes('store write failed'))
  const changes = w.server.logs.filter((l) => l.includes('store write failed') || l.includes('store writes work again'))
    .map((l) => (l.includes('store write failed') ? 'failed' : 'again'))
  assert.ok(failures.length >= 1, 'the store error is reported')
  assert.ok(changes.every((c, i) => c !== changes[i - 1]), `one report per change of state: ${changes.join(', ')}`)
  assert.match(failures[0]!, onPostgres ? /No space left on device/ : /disk is full|SQLITE_FULL/)
  assert.not.ok(w.server.logs.some((l) => l.includes('cannot rollback')), 'the real error, not libsql\'s rollback message')
  assert.ok(w.server.logs.some((l) => l.includes('store writes work again')))
})

full.run()
