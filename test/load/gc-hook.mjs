// Test-only preload for the load test's full-stack server (NODE_OPTIONS=--import ...): on
// SIGUSR2 a full garbage collection, then the memory figures as one JSON line on stderr, so the
// test can tell live heap from memory V8 or malloc merely kept. Never loaded in production.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
process.on('SIGUSR2', () => {
  gc()
  gc()
  process.stderr.write(`${JSON.stringify({ loadTestMemory: process.memoryUsage() })}\n`)
})
