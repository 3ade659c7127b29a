/**
 * The server's Noise static key and the certificate chain that vouches for it.
 *
 * Baileys checks: intermediate signed by WA_CERT_DETAILS.PUBLIC_KEY, leaf signed by the
 * intermediate's key, and intermediate issuerSerial === WA_CERT_DETAILS.SERIAL. We sign the
 * chain for real with the test root, so the check holds without relying on any verify bug.
 */
import { Curve, proto, WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import type { KeyPair } from '@whiskeysockets/baileys'
import { TEST_ROOT_PRIVATE_KEY } from './test-root-key.ts'

export type ServerIdentity = {
	staticKeyPair: KeyPair
	certChain: Uint8Array
}

const INTERMEDIATE_SERIAL = 1
const LEAF_SERIAL = 2

export function makeServerIdentity(): ServerIdentity {
	const staticKeyPair = Curve.generateKeyPair()
	const intermediateKeyPair = Curve.generateKeyPair()
	const notBefore = Math.floor(Date.now() / 1000) - 3600
	const notAfter = notBefore + 10 * 365 * 24 * 3600

	const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
		serial: INTERMEDIATE_SERIAL,
		issuerSerial: WA_CERT_DETAILS.SERIAL,
		key: intermediateKeyPair.public,
		notBefore,
		notAfter
	}).finish()
	const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
		serial: LEAF_SERIAL,
		issuerSerial: INTERMEDIATE_SERIAL,
		key: staticKeyPair.public,
		notBefore,
		notAfter
	}).finish()

	const certChain = proto.CertChain.encode({
		intermediate: {
			details: intermediateDetails,
			signature: Curve.sign(TEST_ROOT_PRIVATE_KEY, intermediateDetails)
		},
		leaf: {
			details: leafDetails,
			signature: Curve.sign(intermediateKeyPair.private, leafDetails)
		}
	}).finish()

	return { staticKeyPair, certChain }
}
