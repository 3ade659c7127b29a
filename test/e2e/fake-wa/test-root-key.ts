/**
 * The fixed Curve25519 root key the fake server signs its Noise certificate chain with.
 *
 * Test-only: committing a private key is fine here because nothing outside the test suite
 * trusts it. Keeping it fixed means the process under test can trust it through a preload
 * module alone, with no environment variable to pass around.
 */
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'

export const TEST_ROOT_PRIVATE_KEY = Buffer.from(
	'0027b8f5f2417e9b4d9a5cfcc866dd0bdd54c1612847a43053c21b2acc88704a',
	'hex'
)
export const TEST_ROOT_PUBLIC_KEY = Buffer.from(
	'0a3ba6a48adc3fa156f5fc5a1044be873747b61d1284ebddfa300bbaab975f1d',
	'hex'
)

/**
 * Makes Baileys in this process trust the fake server's certificate chain by pointing the
 * exported, mutable WA_CERT_DETAILS.PUBLIC_KEY at the test root. Returns a function that
 * restores the real WhatsApp root.
 */
export function trustTestRoot(): () => void {
	const previous = WA_CERT_DETAILS.PUBLIC_KEY
	WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(TEST_ROOT_PUBLIC_KEY)
	return () => {
		WA_CERT_DETAILS.PUBLIC_KEY = previous
	}
}
