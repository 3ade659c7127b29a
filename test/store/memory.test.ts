import { createMemoryStore } from '../../store/memory/index.ts'
import { storeContract } from './contract.ts'

storeContract('in-memory store', async () => {
  const store = createMemoryStore()
  return {
    store,
    failWrites: (on) => store.failWrites(on ? new Error('database or disk is full') : null),
    close: () => store.close(),
  }
})
