/**
 * libsignal (inside Baileys) writes session bookkeeping straight to the console, e.g.
 * "Closing session: SessionEntry {...}" whenever a prekey bundle is re-fetched after a usync or
 * a peer answers a pkmsg. That is normal operation, not a failure, so while a fake server runs
 * exactly those lines are dropped; everything else still reaches the console.
 */
const LIBSIGNAL_PREFIXES = [
	'Closing session',
	'Closing open session in favor of incoming prekey bundle',
	'Removing old closed session',
	'Decrypted message with closed session',
	'Session already closed',
	'Migrating session to',
	// a replayed (duplicate) ciphertext: expected when a test replays a stanza on purpose
	'Failed to decrypt message with any known session',
	'Session error:'
]

const METHODS = ['info', 'warn', 'log', 'error'] as const
type ConsoleMethod = (typeof METHODS)[number]

let holders = 0
let originals: [ConsoleMethod, (...args: unknown[]) => void][] = []

/** Starts filtering (reference-counted across fake servers); call the result to stop. */
export function silenceLibsignalLogs(): () => void {
	if (holders++ === 0) {
		originals = METHODS.map(method => [method, console[method]])
		for (const [method, original] of originals) {
			console[method] = (...args: unknown[]) => {
				const first = args[0]
				if (typeof first === 'string' && LIBSIGNAL_PREFIXES.some(prefix => first.startsWith(prefix))) {
					return
				}
				original.apply(console, args)
			}
		}
	}
	let released = false
	return () => {
		if (released) {
			return
		}
		released = true
		if (--holders === 0) {
			for (const [method, original] of originals) {
				console[method] = original
			}
			originals = []
		}
	}
}
