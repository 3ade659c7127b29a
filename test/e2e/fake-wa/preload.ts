/**
 * Preload for a process under test that runs Baileys against the fake WhatsApp server:
 *
 *   node --import tsx --import ./test/e2e/fake-wa/preload.ts runtime/main.ts
 *
 * ES modules are singletons per resolved URL, so mutating WA_CERT_DETAILS here changes the
 * very object Baileys' noise handler reads later. Production code needs no switch for it.
 */
import { trustTestRoot } from './test-root-key.ts'

trustTestRoot()
