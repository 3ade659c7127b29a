/**
 * An in-memory Signal key store with Baileys' own transaction layer on top, so a fake peer's
 * repository behaves exactly like the one inside the client under test.
 */
import { addTransactionCapability } from '@whiskeysockets/baileys'
import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore, SignalKeyStoreWithTransaction } from '@whiskeysockets/baileys'
import { silentLogger } from './logger.ts'

export function makeMemoryKeyStore(): SignalKeyStoreWithTransaction {
	const tables = new Map<string, Map<string, unknown>>()
	const table = (type: string): Map<string, unknown> => {
		let found = tables.get(type)
		if (!found) {
			found = new Map()
			tables.set(type, found)
		}
		return found
	}
	const store: SignalKeyStore = {
		get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
			const rows = table(type)
			const out: { [id: string]: SignalDataTypeMap[T] } = {}
			for (const id of ids) {
				const value = rows.get(id)
				if (value !== undefined) {
					out[id] = value as SignalDataTypeMap[T]
				}
			}
			return out
		},
		set(data: SignalDataSet) {
			for (const [type, rows] of Object.entries(data)) {
				const target = table(type)
				for (const [id, value] of Object.entries(rows ?? {})) {
					if (value === null || value === undefined) {
						target.delete(id)
					} else {
						target.set(id, value)
					}
				}
			}
		}
	}
	// no retries needed: a memory commit cannot fail
	return addTransactionCapability(store, silentLogger, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
}
