import { readFileSync } from 'node:fs'

/**
 * `node --import tsx bench/profile-top.ts FILE.cpuprofile [REGEX]`: the functions with the
 * most self time and the most inclusive time (optionally only those whose name or file match
 * REGEX), as percentages of the profile. Enough to find a hot spot without opening DevTools.
 */
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const [file, pattern] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [REGEX]\n')
  process.exit(2)
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const timeOf = new Map<number, number>()
prof.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))
const total = [...timeOf.values()].reduce((a, b) => a + b, 0)

const name = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(session|runtime|handlers|bench|test)\//, '$1/')
  return `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`
}
const self = new Map<string, number>()
const inclusive = new Map<string, number>()
for (const [id, t] of timeOf) {
  const key = name(byId.get(id)!)
  self.set(key, (self.get(key) ?? 0) + t)
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur)!)
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + t)
  }
}

const filter = pattern ? new RegExp(pattern) : null
const top = (m: Map<string, number>, n = 25) => [...m]
  .filter(([k]) => !filter || filter.test(k))
  .sort((a, b) => b[1] - a[1]).slice(0, n)
  .map(([k, t]) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`)
  .join('\n')
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n-- self --\n${top(self)}\n-- inclusive --\n${top(inclusive)}\n`)
