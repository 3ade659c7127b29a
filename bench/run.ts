import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchIngest, type IngestResult } from './ingest.ts'
import { benchLatency } from './latency.ts'
import { benchReads } from './reads.ts'
import { benchRestart } from './restart.ts'
import { benchHistory } from './history.ts'
import { benchStack } from './stack.ts'
import { benchAccounts } from './accounts.ts'
import { benchCampaigns } from './campaigns.ts'
import { benchCluster } from './cluster.ts'
import { benchPostgresIngest, benchPostgresRestart } from './postgres.ts'
import { benchDelivery, benchIngestWithWebhook } from './webhooks.ts'
import { machine, markdown, type Row } from './table.ts'
import { removeDir } from './votes.ts'

/**
 * `npm run bench [-- ingest latency reads restart history stack webhooks accounts postgres cluster campaigns]`: runs the sections (all by default),
 * prints the table and writes bench/results.json. BENCH_PROFILE=1 also writes CPU profiles of
 * the timed parts to bench/profiles/ (see bench/README.md).
 */
const SECTIONS = ['ingest', 'restart', 'history', 'latency', 'reads', 'stack', 'webhooks', 'accounts', 'postgres', 'cluster', 'campaigns'] as const
const asked = process.argv.slice(2).filter((a) => (SECTIONS as readonly string[]).includes(a))
const unknown = process.argv.slice(2).filter((a) => !(SECTIONS as readonly string[]).includes(a))
if (unknown.length) {
  process.stderr.write(`unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}\n`)
  process.exit(2)
}
const run = new Set<string>(asked.length ? asked : SECTIONS)

const lines: string[] = []
const log = (s: string) => { lines.push(s); process.stderr.write(`${s}\n`) }
const m = machine()
const load0 = loadavg()
log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, node ${m.node}, ${m.platform}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`)
if (load0[0] > 0.5) log('  (the machine is busy: other processes compete for its cores, figures will be lower and noisier)')

const rows: Row[] = []
const started = performance.now()
const section = async (name: string, fn: () => Promise<{ rows: Row[] }>) => {
  log(`${name} ...`)
  const t = performance.now()
  rows.push(...(await fn()).rows)
  log(`  (${((performance.now() - t) / 1000).toFixed(1)} s)`)
}

// The restart bench starts the server over the store the ingest bench filled.
const kept: { ingest?: IngestResult } = {}
try {
  if (run.has('ingest') || run.has('restart')) {
    await section('1. ingest', async () => {
      kept.ingest = await benchIngest(log)
      return run.has('ingest') ? kept.ingest : { rows: [] }
    })
  }
  const data = kept.ingest
  if (run.has('restart') && data) await section('4. restart', () => benchRestart(log, data.dataDir, data.polls, data.journalRows))
} finally {
  if (kept.ingest) removeDir(kept.ingest.dataDir)
}
if (run.has('history')) await section('4. restart with a long history', () => benchHistory(log))
if (run.has('latency')) await section('2. latency', () => benchLatency(log))
if (run.has('reads')) await section('3. reads', () => benchReads(log))
if (run.has('stack')) await section('5. whole stack', () => benchStack(log))
if (run.has('webhooks')) {
  await section('6. webhooks: delivery', () => benchDelivery(log))
  await section('6. webhooks: ingest with an endpoint', () => benchIngestWithWebhook(log))
}
if (run.has('accounts')) await section('7. accounts', () => benchAccounts(log))
if (run.has('postgres')) {
  await section('8. PostgreSQL: ingest', () => benchPostgresIngest(log))
  await section('8. PostgreSQL: restart with 100,000 votes', () => benchPostgresRestart(log))
}
if (run.has('cluster')) await section('8. PostgreSQL: two processes, vote → poll_update_to_gui', () => benchCluster(log))
if (run.has('campaigns')) await section('9. campaigns', () => benchCampaigns(log))

rows.sort((a, b) => a.section.localeCompare(b.section))
const durationS = (performance.now() - started) / 1000
const load1 = loadavg()
const table = markdown(rows)
process.stdout.write(`\n${table}\n\nMachine: ${m.cpu}, ${m.cores} cores, node ${m.node}. Load average at start ${load0[0].toFixed(2)}, at end ${load1[0].toFixed(2)}. ${durationS.toFixed(0)} s.\n`)
const out = fileURLToPath(new URL('./results.json', import.meta.url))
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: m, loadavg: { start: load0, end: load1 }, durationS, rows, log: lines }, null, 2)}\n`)
process.stderr.write(`wrote ${out}\n`)
