/**
 * Gathers items that arrive close together and hands them to `run` as one batch (one
 * transaction, one fsync). While a batch runs, the next one gathers. When none runs, a batch
 * starts at once: after the current turn of the event loop (so what is pushed in one go, and
 * what the pusher does right after in the same turn, joins it), or `delayMs` after its first
 * item when a gathering delay is asked for; and when `maxBatch` items wait. Each push settles
 * with its batch: resolved with its result, or rejected with the batch's error.
 */
export function createGroupCommit<T, R>(opts: {
  run: (batch: T[]) => Promise<R[]>
  maxBatch?: number
  delayMs?: number
}) {
  const maxBatch = opts.maxBatch ?? 5000
  // A fixed delay only made each lone vote wait: under load the running batch does the gathering.
  const delayMs = opts.delayMs ?? 0
  type Waiter = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }
  let queue: Waiter[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let immediate: ReturnType<typeof setImmediate> | undefined
  let running: Promise<void> | undefined

  function schedule(): void {
    if (running || immediate) return
    if (queue.length >= maxBatch || !delayMs) {
      clearTimeout(timer)
      timer = undefined
      immediate = setImmediate(kick)
    } else if (!timer) {
      timer = setTimeout(kick, delayMs)
    }
  }

  function cancel(): void {
    clearTimeout(timer)
    clearImmediate(immediate)
    timer = undefined
    immediate = undefined
  }

  function kick(): void {
    cancel()
    if (running || !queue.length) return
    running = loop().finally(() => {
      running = undefined
      // Items pushed between the loop's last check and here would otherwise wait for the next push.
      if (queue.length) schedule()
    })
  }

  async function loop(): Promise<void> {
    for (let n = 0; queue.length; n++) {
      // Between batches, let I/O in: a flood of votes must not starve HTTP and the socket.
      if (n) await new Promise<void>((resolve) => setImmediate(resolve))
      if (!queue.length) break
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue
      if (batch === queue) queue = []
      try {
        const results = await opts.run(batch.map((w) => w.item))
        batch.forEach((w, i) => w.resolve(results[i]))
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
  }

  return {
    push(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        schedule()
      })
    },
    /** Runs everything queued, without waiting for the delay, until nothing is queued or in flight. */
    async drain(): Promise<void> {
      while (queue.length || running) {
        kick()
        if (running) await running
      }
    },
    pending(): number {
      return queue.length
    },
    /** a batch is being committed */
    running(): boolean {
      return running !== undefined
    },
  }
}
