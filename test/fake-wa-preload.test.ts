import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { TEST_ROOT_PUBLIC_KEY } from './e2e/fake-wa/test-root-key.ts'

/**
 * bench/stack.ts loads the fake WhatsApp's trust through test/e2e/fake-wa/preload.mjs (no tsx in
 * the measured server); it must trust the same root as preload.ts does.
 */
test('preload.mjs makes Baileys trust the fake WhatsApp\'s test root', async () => {
  const real = WA_CERT_DETAILS.PUBLIC_KEY
  try {
    await import('./e2e/fake-wa/preload.mjs')
    assert.ok(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY).equals(TEST_ROOT_PUBLIC_KEY))
  } finally {
    WA_CERT_DETAILS.PUBLIC_KEY = real
  }
})

test.run()
