import type { PollView } from '../../contract/polls.ts'

const KEYS = ['question', 'options', 'optionHashes', 'results', 'voters', 'chatId', 'timestamp', 'selectableCount'] as const satisfies ReadonlyArray<keyof PollView>
const BUILD = Symbol('build')

// Own enumerable accessors, not a class's: JSON.stringify, Object.keys, spreads and deep
// equality see a plain PollView. The builder sits under a symbol, which none of them list.
const accessors: PropertyDescriptorMap = {}
for (const k of KEYS) accessors[k] = { enumerable: true, get(this: { [BUILD]: () => PollView }) { return this[BUILD]()[k] } }

/**
 * A PollView that is built on its first read, once. The engine announces every changed poll
 * after every group commit; most listeners only count the update or fold it into a later one,
 * and building each view (every voter of the poll) cost about a tenth of vote ingest.
 */
export function lazyView(build: () => PollView): PollView {
  let view: PollView | undefined
  return Object.defineProperties({ [BUILD]: () => (view ??= build()) }, accessors) as unknown as PollView
}
