import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The import directions the README's architecture map states, checked on every file:
 * handlers → contract ← runtime; the core (core/) never imports runtime/ or handlers/, and sees
 * storage only through store/ports.ts; a store implementation never imports the core.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url))

interface Rule { from: RegExp; may: RegExp[]; packagesNot?: RegExp }

/** The store's ports: what the core may know of storage. */
const PORTS = /^store\/(ports|outbox-port)\.ts$/
/** What every store implementation does the same way: codecs, outbox rows, write health, held Signal-key writes. */
const SHARED = /^store\/(codec|buffer-json|outbox-rows|write-health|key-staging)\.ts$/

const RULES: Rule[] = [
  { from: /^contract\//, may: [/^contract\//], packagesNot: /./ },
  { from: /^handlers\//, may: [/^contract\//, /^handlers\//], packagesNot: /^(node:|hono|@hono|socket\.io|@whiskeysockets|libsql|pino$)/ },
  { from: /^core\//, may: [/^contract\//, /^core\//, PORTS], packagesNot: /^(hono|@hono|socket\.io|libsql|pg|postgres)/ },
  { from: PORTS, may: [/^contract\//, PORTS] },
  { from: SHARED, may: [/^contract\//, PORTS, SHARED] },
  { from: /^store\/sqlite\//, may: [/^contract\//, PORTS, SHARED, /^store\/sqlite\//] },
  { from: /^store\/memory\//, may: [/^contract\//, PORTS, SHARED, /^store\/memory\//] },
  { from: /^store\/postgres\//, may: [/^contract\//, PORTS, SHARED, /^store\/postgres\//] },
  { from: /^runtime\//, may: [/^contract\//, /^core\//, /^store\//, /^handlers\/index\.ts$/, /^runtime\//] },
]

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(type\s)?[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

/**
 * Every import of `source` (a file at `file`, relative to the root), resolved to a root path or a
 * package name; `dynamic` for an `import()` (also `typeof import('…')` in a type: a walk that
 * follows dynamic imports follows those too, which errs on the strict side).
 */
export function importsOf(file: string, source: string): Array<{ spec: string; target: string; local: boolean; typeOnly: boolean; dynamic: boolean }> {
  const out: Array<{ spec: string; target: string; local: boolean; typeOnly: boolean; dynamic: boolean }> = []
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[2] ?? m[3]!
    const local = spec.startsWith('.')
    out.push({ spec, local, typeOnly: !!m[1], dynamic: m[3] !== undefined, target: local ? normalize(join(dirname(file), spec)) : spec })
  }
  return out
}

/** What breaks the rules in these files (path relative to the root → source). */
export function violations(files: Record<string, string>): string[] {
  const out: string[] = []
  for (const [file, source] of Object.entries(files)) {
    const rule = RULES.find((r) => r.from.test(file))
    if (!rule) continue
    for (const { spec, target, local, typeOnly } of importsOf(file, source)) {
      if (local && !rule.may.some((re) => re.test(target))) out.push(`${file} imports ${target}`)
      // A type-only import of a package (pino's Logger) leaves nothing behind at run time.
      if (!local && !typeOnly && rule.packagesNot?.test(spec)) out.push(`${file} imports the package ${spec}`)
    }
  }
  return out
}

/** Baileys and its deep paths (`…/WAProto`, `…/lib/Utils/…`). */
const BAILEYS = /^@whiskeysockets\/baileys(\/|$)/

/**
 * Imports made once the server listens, not on its way there (`from → to`): Baileys' socket
 * factory (runtime/lazy-baileys.ts). Every other `import()` of a local file is followed: main.ts
 * imports app.ts, and app.ts postgres-parts.ts, dynamically but before listening.
 */
const AFTER_LISTEN = new Set(['runtime/lazy-baileys.ts → core/whatsapp/baileys-socket.ts'])

/**
 * What the server loads before it listens, from runtime/main.ts through local files: each run-time
 * import of Baileys it reaches (a static one that is not `import type`; an `import()` of Baileys
 * is the loaders' on-first-use), as the chain of files that leads to it (issue #16: importing
 * Baileys costs ~220 ms and ~50 MB, paid before the first request is served).
 */
export function baileysBeforeListen(read: (file: string) => string | undefined, entry = 'runtime/main.ts'): string[] {
  const out: string[] = []
  const via = new Map<string, string | null>([[entry, null]])
  const chain = (file: string): string[] => { const up = via.get(file); return up ? [...chain(up), file] : [file] }
  const queue = [entry]
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const source = read(file)
    if (source === undefined) continue
    for (const { spec, target, local, typeOnly, dynamic } of importsOf(file, source)) {
      if (typeOnly) continue
      if (!local) {
        if (!dynamic && BAILEYS.test(spec)) out.push(`${chain(file).join(' → ')} imports ${spec}`)
      } else if (!via.has(target) && !(dynamic && AFTER_LISTEN.has(`${file} → ${target}`))) {
        via.set(target, file)
        queue.push(target)
      }
    }
  }
  return out
}

function sources(): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (path.endsWith('.ts')) out[relative('.', path)] = readFileSync(join(ROOT, path), 'utf8')
    }
  }
  for (const top of ['contract', 'core', 'store', 'handlers', 'runtime']) walk(top)
  return out
}

const arch = suite('architecture: import directions')

arch('every file of contract/, core/, store/, handlers/ and runtime/ imports only what its layer may', () => {
  const files = sources()
  assert.ok(Object.keys(files).length > 40, 'the tree was read')
  assert.equal(violations(files), [])
})

arch('the check bites: an import against the direction is reported', () => {
  assert.equal(violations({
    'core/votes/engine.ts': "import { createRouter } from '../../runtime/router.ts'\nimport type { Db } from '../../store/sqlite/db.ts'",
    'handlers/poll.ts': "import { openDb } from '../store/sqlite/db.ts'\nimport { readFileSync } from 'node:fs'",
    'contract/http.ts': "import type { VoteEngine } from '../core/votes/engine.ts'",
    'store/sqlite/votes.ts': "import { deriveVote } from '../../core/votes/decrypt.ts'",
    'runtime/app.ts': "import { json } from '../handlers/lib/http.ts'",
  }), [
    'core/votes/engine.ts imports runtime/router.ts',
    'core/votes/engine.ts imports store/sqlite/db.ts',
    'handlers/poll.ts imports store/sqlite/db.ts',
    'handlers/poll.ts imports the package node:fs',
    'contract/http.ts imports core/votes/engine.ts',
    'store/sqlite/votes.ts imports core/votes/decrypt.ts',
    'runtime/app.ts imports handlers/lib/http.ts',
  ])
})

const startPath = suite('architecture: the server listens before Baileys is imported')

startPath('nothing runtime/main.ts loads before listening imports Baileys at run time', () => {
  const seen: string[] = []
  const read = (file: string) => {
    seen.push(file)
    try { return readFileSync(join(ROOT, file), 'utf8') } catch { return undefined }
  }
  assert.equal(baileysBeforeListen(read), [])
  // The walk reached the store, the core and the store codecs, not only main.ts's own imports.
  for (const file of ['runtime/app.ts', 'core/account.ts', 'core/whatsapp/intake.ts', 'core/votes/crypto.ts', 'store/codec.ts', 'store/postgres/auth.ts']) {
    assert.ok(seen.includes(file), `${file} was walked`)
  }
  assert.not.ok(seen.includes('core/whatsapp/baileys-socket.ts'), 'the socket factory is imported after listening')
})

startPath('the check bites: a static import of Baileys or of a deep path on the way is reported, with its chain', () => {
  const files: Record<string, string> = {
    'runtime/main.ts': "import type { App } from './app.ts'\nconst { createApp } = await import('./app.ts')",
    'runtime/app.ts': "import { lazy } from './lazy.ts'\nimport { x } from '../core/x.ts'\nimport type { proto } from '@whiskeysockets/baileys'",
    'runtime/lazy.ts': "export const lazy = () => import('../core/whatsapp/baileys-socket.ts')",
    'runtime/lazy-baileys.ts': "export const load = () => import('../core/whatsapp/baileys-socket.ts')",
    'core/x.ts': "import { proto } from '@whiskeysockets/baileys/WAProto/index.js'\nexport const y = () => import('@whiskeysockets/baileys')",
    'core/whatsapp/baileys-socket.ts': "import makeWASocket from '@whiskeysockets/baileys'",
  }
  assert.equal(baileysBeforeListen((f) => files[f]), [
    'runtime/main.ts → runtime/app.ts → core/x.ts imports @whiskeysockets/baileys/WAProto/index.js',
    'runtime/main.ts → runtime/app.ts → runtime/lazy.ts → core/whatsapp/baileys-socket.ts imports @whiskeysockets/baileys',
  ])
})

arch.run()
startPath.run()
