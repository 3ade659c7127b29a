import type { Handler } from '../runtime/context.ts'
import { HttpError, json, readJsonObject } from './lib/http.ts'
import { parsePollInput } from './lib/poll-input.ts'

/** POST /send-poll — sends a poll and starts tracking its votes. */
export const sendPoll: Handler = async (req, ctx) => {
  const input = parsePollInput(await readJsonObject(req))
  if (ctx.session.status() !== 'ready') {
    throw new HttpError(503, 'WhatsApp is not connected; link the account and try again')
  }
  let pollMsgId: string
  try {
    ;({ pollMsgId } = await ctx.session.sendPoll(input))
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new HttpError(502, 'WhatsApp did not accept the poll', reason)
  }
  ctx.log.info({ pollMsgId, chatId: input.chatId }, 'poll sent')
  return json(200, { success: true, message: 'Poll sent successfully!', pollMsgId })
}
