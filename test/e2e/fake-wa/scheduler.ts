/**
 * Every timer and every pending wait of one fake server lives here, so close() can clear
 * them all and a test process never hangs on a forgotten handle.
 */
type Waiter = { check: () => boolean; reject: (error: Error) => void }

export class Scheduler {
	private readonly timers = new Set<NodeJS.Timeout>()
	private readonly waiters = new Set<Waiter>()
	private closed = false

	get isClosed(): boolean {
		return this.closed
	}

	setTimeout(callback: () => void, ms: number): NodeJS.Timeout {
		const timer = setTimeout(() => {
			this.timers.delete(timer)
			callback()
		}, ms)
		this.timers.add(timer)
		return timer
	}

	clearTimeout(timer: NodeJS.Timeout | undefined): void {
		if (timer) {
			clearTimeout(timer)
			this.timers.delete(timer)
		}
	}

	delay(ms: number): Promise<void> {
		return new Promise(resolve => {
			this.setTimeout(resolve, ms)
		})
	}

	/**
	 * Resolves with the first non-undefined value of `check`, evaluated now and after every
	 * poke(); rejects after `timeoutMs` or when the server closes.
	 */
	waitFor<T>(check: () => T | undefined, timeoutMs: number, label: string): Promise<T> {
		const first = check()
		if (first !== undefined) {
			return Promise.resolve(first)
		}
		if (this.closed) {
			return Promise.reject(new Error(`fake WhatsApp closed while waiting for ${label}`))
		}
		return new Promise<T>((resolve, reject) => {
			const finish = (): void => {
				this.waiters.delete(waiter)
				this.clearTimeout(timer)
			}
			const waiter: Waiter = {
				check: () => {
					const value = check()
					if (value === undefined) {
						return false
					}
					finish()
					resolve(value)
					return true
				},
				reject: error => {
					finish()
					reject(error)
				}
			}
			const timer = this.setTimeout(
				() => waiter.reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)),
				timeoutMs
			)
			this.waiters.add(waiter)
		})
	}

	/** Something changed: re-run the pending checks. */
	poke(): void {
		for (const waiter of [...this.waiters]) {
			waiter.check()
		}
	}

	close(): void {
		this.closed = true
		for (const waiter of [...this.waiters]) {
			waiter.reject(new Error('fake WhatsApp closed'))
		}
		for (const timer of this.timers) {
			clearTimeout(timer)
		}
		this.timers.clear()
	}
}
