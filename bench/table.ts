import { cpus, totalmem } from 'node:os'
import { readFileSync } from 'node:fs'

/** One measured figure with the baseline measured in the same run. */
export interface Row {
  section: string
  measure: string
  value: number
  unit: string
  baseline: string
  baselineValue: number
  /** value / baseline (for times: how many times the baseline's time) */
  ratio: number
  target: string
  pass: boolean | null
  note?: string
}

export function machine() {
  const cpu = cpus()
  let model = cpu[0]?.model ?? 'unknown'
  // Some VMs report a bare family name; /proc/cpuinfo may say more.
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'))
    if (line) model = line.split(':')[1]!.trim()
  } catch { /* not Linux */ }
  return {
    cpu: model,
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

export function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return String(v)
  const n = v >= 100 ? Math.round(v).toLocaleString('en') : v >= 10 ? v.toFixed(1) : v.toFixed(2)
  return unit ? `${n} ${unit}` : n
}

/** A GitHub-flavoured markdown table: reads as text in a terminal, pastes into the README. */
export function markdown(rows: Row[]): string {
  const head = ['#', 'measure', 'value', 'baseline (same run)', 'ratio', 'target', 'met']
  const body = rows.map((r) => [
    r.section,
    r.measure,
    fmt(r.value, r.unit) + (r.note ? ` (${r.note})` : ''),
    `${r.baseline}: ${fmt(r.baselineValue, r.unit)}`,
    `${fmt(r.ratio, '')}×`,
    r.target,
    r.pass === null ? '–' : r.pass ? 'yes' : '**no**',
  ])
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n')
}

/** CPU time (user + system) of this process since `since`, in ms. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}
