import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'

/** What may show up in a log line's fields and must not: tokens, the Authorization header. */
const REDACT = ['req.headers.authorization', '*.token', '*.apiToken']

/**
 * The server's logger. A person running `npm start` in a terminal reads coloured one-line
 * entries (pino-pretty, in this thread: no worker to lose lines at exit); anything else — a
 * pipe, a file, Docker's log driver — gets pino's JSON lines, one per entry, for machines.
 * `format` (LOG_FORMAT) overrides the guess from the terminal.
 */
export function createLogger(level: string, format: 'json' | 'pretty' | undefined, stdout: NodeJS.WriteStream = process.stdout): Logger {
  const usePretty = format ? format === 'pretty' : stdout.isTTY === true
  if (!usePretty) return pino({ level, redact: REDACT }, stdout)
  return pino({ level, redact: REDACT }, pretty({
    colorize: stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, destination: stdout, sync: true,
  }))
}
