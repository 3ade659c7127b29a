import type { SendPollInput } from '../../contract/account.ts'
import { HttpError } from '../../contract/http.ts'
import { CHAT_JID, MAX_OPTION_LENGTH, MAX_OPTIONS, MAX_QUESTION } from '../../contract/limits.ts'

const bad = (field: string, why: string) => new HttpError(400, `${field} ${why}`)

/** Turns the GUI's body into a SendPollInput, or a 400 naming the first wrong field. */
export function parsePollInput(body: Record<string, unknown>): SendPollInput {
  const { chatId, question, options, allowMultipleAnswers } = body
  if (typeof chatId !== 'string' || !CHAT_JID.test(chatId)) {
    throw bad('chatId', 'must be a WhatsApp JID (…@s.whatsapp.net, …@g.us or …@lid)')
  }
  if (typeof question !== 'string') throw bad('question', 'must be a string')
  const q = question.trim()
  if (q.length < 1 || q.length > MAX_QUESTION) throw bad('question', `must be 1 to ${MAX_QUESTION} characters`)
  if (!Array.isArray(options)) throw bad('options', 'must be an array of texts')
  if (options.length < 1 || options.length > MAX_OPTIONS) throw bad('options', `must hold 1 to ${MAX_OPTIONS} texts`)
  const texts: string[] = []
  for (const o of options) {
    if (typeof o !== 'string') throw bad('options', 'must all be strings')
    const t = o.trim()
    if (!t) throw bad('options', 'must not be empty')
    if (t.length > MAX_OPTION_LENGTH) throw bad('options', `must each be at most ${MAX_OPTION_LENGTH} characters`)
    if (texts.includes(t)) throw bad('options', `must be unique ("${t}" appears twice)`)
    texts.push(t)
  }
  if (allowMultipleAnswers !== undefined && typeof allowMultipleAnswers !== 'boolean') {
    throw bad('allowMultipleAnswers', 'must be true or false')
  }
  return { chatId, question: q, options: texts, selectableCount: allowMultipleAnswers ? 0 : 1 }
}
