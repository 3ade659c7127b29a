import type { BaileysEventMap } from '@whiskeysockets/baileys'
import type { WaSocket } from './baileys-socket.ts'

/** Adds a Baileys listener and returns its remover, to be kept and called on every transition. */
export function subscribe<E extends keyof BaileysEventMap>(ev: WaSocket['ev'], event: E, fn: (arg: BaileysEventMap[E]) => void): () => void {
  ev.on(event, fn)
  return () => ev.off(event, fn)
}
