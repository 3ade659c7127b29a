import type * as Baileys from '@whiskeysockets/baileys'

/**
 * Baileys, imported on first use rather than with the core: importing it costs ~220 ms and
 * ~50 MB, and the server listens and serves reads from the store before any account needs it
 * (issue #16). Its helpers that the core calls synchronously (intake's message readers, the
 * close codes) run only on a socket's events, and a connection awaits
 * loadBaileys() before it opens one (connection.ts), as does runtime/lazy-baileys.ts before it
 * builds the socket factory. Only `import type` of Baileys is static in the core's other files.
 */

export type BaileysModule = typeof Baileys

let loaded: BaileysModule | null = null
let loading: Promise<BaileysModule> | null = null

/** Imports Baileys (once; later calls share the first import). */
export function loadBaileys(): Promise<BaileysModule> {
  return (loading ??= import('@whiskeysockets/baileys').then((m) => (loaded = m)))
}

/** The module loadBaileys() imported; throws when called before that import finished. */
export function baileys(): BaileysModule {
  if (!loaded) throw new Error('Baileys is not loaded yet: await loadBaileys() (core/whatsapp/baileys-lib.ts) before using it')
  return loaded
}
