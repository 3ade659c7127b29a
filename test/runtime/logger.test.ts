import { Writable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../runtime/logger.ts'

/** A stdout stand-in that keeps what is written, a terminal or not. */
function out(isTTY: boolean) {
  const chunks: string[] = []
  const w = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb() } }) as unknown as NodeJS.WriteStream & { text(): string }
  ;(w as { isTTY?: boolean }).isTTY = isTTY
  w.text = () => chunks.join('')
  return w
}

const logger = suite('createLogger: pretty on a terminal, JSON lines otherwise')

logger('a terminal gets one readable, coloured line per entry, secrets redacted', () => {
  const tty = out(true)
  createLogger('info', undefined, tty).info({ apiToken: { token: 'sekrit-token-1234' }, pollMsgId: 'P1' }, 'poll sent')
  const text = tty.text()
  assert.match(text, /poll sent/)
  assert.match(text, /\x1b\[/, 'coloured')
  assert.not.match(text, /^\{/, 'not JSON')
  assert.not.match(text, /sekrit/)
  assert.is(text.trim().split('\n').length, 1)
})

logger('a pipe gets JSON lines; LOG_FORMAT overrides the guess both ways', () => {
  const pipe = out(false)
  createLogger('info', undefined, pipe).info({ pollMsgId: 'P1' }, 'poll sent')
  const line = JSON.parse(pipe.text())
  assert.equal([line.msg, line.pollMsgId, line.level], ['poll sent', 'P1', 30])
  const forced = out(true)
  createLogger('info', 'json', forced).info('x')
  assert.is(JSON.parse(forced.text()).msg, 'x')
  const prettyPipe = out(false)
  createLogger('info', 'pretty', prettyPipe).info('readable')
  assert.match(prettyPipe.text(), /INFO.*readable/)
  assert.not.match(prettyPipe.text(), /\x1b\[/, 'no colour codes into a file')
})

logger.run()
