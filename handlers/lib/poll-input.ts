import type { SendPollInput } from '../../contract/account.ts'
import { HttpError } from '../../contract/http.ts'
import { CHAT_JID, MAX_OPTION_LENGTH, MAX_OPTIONS, MAX_QUESTION } from '../../contract/limits.ts'

export const bad = (field: string, why: string) => new HttpError(400, `${field} ${why}`)

/** The poll itself (question, options, single or multiple choice), or a 400 naming the first wrong field. */
export function parsePollFields(body: Record<string, unknown>): Omit<SendPollInput, 'chatId'> {
  const { question, options, allowMultipleAnswers } = body
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
  return { question: q, options: texts, selectableCount: allowMultipleAnswers ? 0 : 1 }
}

export const isChatId = (v: unknown): v is string => typeof v === 'string' && CHAT_JID.test(v)
export const CHAT_ID_RULE = 'must be a WhatsApp JID (…@s.whatsapp.net, …@g.us or …@lid)'

/** Turns the GUI's body into a SendPollInput, or a 400 naming the first wrong field. */
export function parsePollInput(body: Record<string, unknown>): SendPollInput {
  const { chatId } = body
  if (!isChatId(chatId)) throw bad('chatId', CHAT_ID_RULE)
  return { chatId, ...parsePollFields(body) }
}
