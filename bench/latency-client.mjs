import { parentPort, workerData } from 'node:worker_threads'
import { io } from 'socket.io-client'

// Plain JavaScript: a worker thread does not get tsx's loader under Node 20.
/**
 * The GUI's side of the latency bench, on its own thread (as the GUI is its own process): a
 * Socket.IO client that notes when each voter first appears in a poll's `poll_update_to_gui`
 * (and when each `rtt-N` probe arrives), on the monotonic clock the main thread uses too; with
 * `workerData.bySelection`, when each poll first shows each selection instead.
 */
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)
const now = () => Number(process.hrtime.bigint()) / 1e6
/** @type {Map<string, number>} */
const seen = new Map()
const client = io(workerData.url, { transports: ['websocket'], reconnection: false })

client.on('initial_poll_data', () => port.postMessage({ type: 'ready' }))
client.on('connect_error', (err) => port.postMessage({ type: 'error', message: err.message }))
client.on('poll_update_to_gui', (/** @type {{ pollMsgId: string, voters: Record<string, unknown>, results: Record<string, number> }} */ u) => {
  const at = now()
  if (u.pollMsgId.startsWith('rtt-')) {
    if (!seen.has(u.pollMsgId)) seen.set(u.pollMsgId, at)
    return
  }
  if (workerData.bySelection) {
    // One voter per poll (bench/cluster.ts): the options it selects name the vote that set them.
    const key = `${u.pollMsgId}|${Object.keys(u.results).filter((o) => u.results[o] > 0).sort().join(',')}`
    if (!seen.has(key)) seen.set(key, at)
    return
  }
  for (const voter in u.voters) {
    const key = `${u.pollMsgId}|${voter}`
    if (!seen.has(key)) seen.set(key, at)
  }
})

port.on('message', (/** @type {{ type: 'collect' | 'close' }} */ m) => {
  if (m.type === 'collect') {
    port.postMessage({ type: 'seen', seen: [...seen] })
    seen.clear()
  } else {
    client.close()
    port.close()
  }
})
