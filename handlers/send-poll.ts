import { json, type Handler } from '../contract/http.ts'
import { readJsonObject } from './lib/http.ts'
import { parsePollInput } from './lib/poll-input.ts'

/** POST /send-poll — sends a poll and starts tracking its votes. */
export const sendPoll: Handler = async (req, ctx) => {
  const input = parsePollInput(await readJsonObject(req))
  const { pollMsgId } = await ctx.session.sendPoll(input)
  ctx.log.info({ pollMsgId, chatId: input.chatId }, 'poll sent')
  return json(200, { success: true, message: 'Poll sent successfully!', pollMsgId })
}
