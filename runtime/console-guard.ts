import type { Logger } from 'pino'

type Method = 'debug' | 'log' | 'info' | 'warn' | 'error' | 'trace'

/**
 * The server itself never writes to the console; its dependencies do. libsignal (inside
 * Baileys) prints whole session records on routine events (its "Closing session:" info line
 * carries the session object), and with them the ratchet's private keys and root key. This sends every console
 * call to the logger instead, one level lower (libsignal warns and errs about what Baileys
 * already logs and recovers from), as text only: strings pass, anything else is named by its
 * type and never printed. Returns the function that puts the console back.
 */
export function routeConsole(log: Logger, target: Pick<Console, Method> = console): () => void {
  const levels: Record<Method, 'debug' | 'info' | 'warn'> = { debug: 'debug', log: 'debug', info: 'debug', trace: 'debug', warn: 'info', error: 'warn' }
  const saved = (Object.keys(levels) as Method[]).map((m) => [m, target[m]] as const)
  const out = log.child({ module: 'console' })
  for (const m of Object.keys(levels) as Method[]) {
    const level = levels[m]
    target[m] = (...args: unknown[]) => { out[level](describe(args)) }
  }
  return () => { for (const [m, fn] of saved) target[m] = fn }
}

function describe(args: unknown[]): string {
  return args.map((a) => {
    if (typeof a === 'string') return a
    if (typeof a === 'number' || typeof a === 'boolean' || typeof a === 'bigint' || a == null) return String(a)
    if (a instanceof Error) return `${a.name}: ${a.message}`
    return `[${(a as object).constructor?.name ?? typeof a}]`
  }).join(' ')
}
