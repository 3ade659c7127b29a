import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { generateMessageIDV2 as baileysId } from '@whiskeysockets/baileys'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateMessageIDV2 } from '../../../core/votes/message-id.ts'

/** The engine's poll ids, made without Baileys, against Baileys' generateMessageIDV2. */

const ids = suite('generateMessageIDV2')

const JIDS = [undefined, '', '15550000001@s.whatsapp.net', '15550000001:7@s.whatsapp.net', '15550000001_1:2@s.whatsapp.net',
  '99990000001@lid', 'no-at-sign', '@s.whatsapp.net', '1234567890123456789012345@s.whatsapp.net', 'ü@s.whatsapp.net']

ids('the same id as Baileys for the same second and random bytes, whatever the JID', () => {
  // Both read randomBytes from node:crypto by name: replaced (and the ESM exports synced) for the comparison.
  if ('Deno' in globalThis) return // Deno's node:crypto exports are not replaceable; Node checks it
  const { randomBytes } = crypto
  const now = Date.now
  try {
    for (const fill of [0, 7, 255]) {
      ;(crypto as { randomBytes: unknown }).randomBytes = (n: number) => Buffer.alloc(n, fill)
      syncBuiltinESMExports()
      Date.now = () => 1_700_000_000_123 + fill * 1000
      for (const jid of JIDS) assert.is(generateMessageIDV2(jid), baileysId(jid), `${jid} / ${fill}`)
    }
  } finally {
    crypto.randomBytes = randomBytes
    syncBuiltinESMExports()
    Date.now = now
  }
})

ids('WhatsApp Web\'s form: 3EB0 and 18 upper-case hex digits, a new one each time', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 1000; i++) {
    const id = generateMessageIDV2('15550000001@s.whatsapp.net')
    assert.match(id, /^3EB0[0-9A-F]{18}$/)
    seen.add(id)
  }
  assert.is(seen.size, 1000)
  assert.match(baileysId('15550000001@s.whatsapp.net'), /^3EB0[0-9A-F]{18}$/)
})

ids.run()
