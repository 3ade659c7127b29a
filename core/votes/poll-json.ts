import { forEachSelection } from './ballot-table.ts'
import { pollView } from './tally.ts'
import type { PollShape, Tally } from './tally.ts'

/**
 * The poll's contract JSON, the very text `JSON.stringify(pollView(p, t))` writes, without
 * building the view: a body of every poll is written straight from the tallies (10,000 polls of
 * 75 voters: 750,000 view entries and their objects not made, then not collected). The small
 * parts (options, results) go through JSON.stringify of the same objects pollView makes; each
 * voter is its key's JSON and its selection's, made once per distinct selection.
 */
export function pollJson(p: PollShape, t: Pick<Tally, 'counts' | 'current'>): string {
  const optionHashes: Record<string, string> = {}
  const results: Record<string, number> = {}
  p.options.forEach((text, i) => {
    optionHashes[p.hashes[i]!] = text
    results[text] = t.counts[i]!
  })
  let voters = ''
  let odd = false
  const selections = new Map<readonly number[], string>()
  forEachSelection(t.current, (voter, sel) => {
    if (!sel.length || odd) return
    // An object orders index-like keys first and takes "__proto__" as its prototype: such a key
    // (never a JID) goes the long way, so the text stays what JSON.stringify of the view gives.
    if (voter === '__proto__' || isIndexLike(voter)) { odd = true; return }
    let text = selections.get(sel)
    if (text === undefined) selections.set(sel, (text = JSON.stringify(sel.map((i) => p.hashes[i]))))
    voters += (voters ? ',' : '') + JSON.stringify(voter) + ':' + text
  })
  if (odd) return JSON.stringify(pollView(p, t))
  return `{"question":${JSON.stringify(p.question)},"options":${JSON.stringify(p.options)},"optionHashes":${JSON.stringify(optionHashes)},`
    + `"results":${JSON.stringify(results)},"voters":{${voters}},"chatId":${JSON.stringify(p.chatId)},`
    + `"timestamp":${JSON.stringify(p.timestamp)},"selectableCount":${JSON.stringify(p.selectableCount)}}`
}

/** Whether an object would list `key` among its array indices (ahead of the other keys). */
export function isIndexLike(key: string): boolean {
  const c = key.charCodeAt(0)
  return c >= 48 && c <= 57 && /^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1
}
